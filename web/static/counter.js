/* The counter console: scan (camera, scanner or paste), ask for materials, watch the answer,
   check a face. Every call goes to /counter/api/ on this origin; the service point's token
   stays on the server. */
(function () {
  "use strict";
  var O = window.OneCode, M = O.messages;
  var q = function (hook) { return document.querySelector('[data-test="' + hook + '"]'); };
  var scanForm = document.getElementById("scan-form");
  var scanInput = q("scan-input"), purpose = q("purpose"), scanError = q("scan-error");
  var video = document.getElementById("camera");
  var subjectBox = document.getElementById("subject");
  var materialsBox = document.getElementById("materials-box");
  var faceBox = document.getElementById("face-box");
  var requestForm = document.getElementById("request-form");
  var requestStatus = q("request-status"), requestNote = document.getElementById("request-note");
  var materials = q("materials"), faceResult = q("face-result");
  var scanId = null, stream = null, scanning = false, polling = null, busy = false;

  /* The console's routes answer a refusal as {refused: problem}: treated as a failure. */
  function call(method, path, options) {
    return O.call(method, path, options).then(function (answer) {
      if (answer && answer.refused) {
        var error = new Error(answer.refused.detail || answer.refused.title);
        error.type = answer.refused.type;
        error.status = answer.refused.status;
        error.problem = answer.refused;
        throw error;
      }
      return answer;
    });
  }

  function signedOut(error) {
    if (error.status === 401) { window.location.assign("/counter/"); return true; }
    return false;
  }

  function refusal(error) {
    return M.refusals[error.type] || (error.status === 0 ? M.network : error.message);
  }

  function showError(text) {
    scanError.textContent = text;
    O.show(scanError, !!text);
  }

  function resetResult() {
    scanId = null;
    if (polling) { clearTimeout(polling); polling = null; }
    [subjectBox, materialsBox, faceBox, q("licence")].forEach(function (box) { O.show(box, false); });
    materials.textContent = "";
    O.show(requestStatus, false);
    O.show(requestNote, false);
    faceResult.textContent = "";
  }

  function showSubject(answer) {
    var subject = answer.subject;
    scanId = answer.scan_id;
    q("subject-name").textContent = subject.display_name;
    q("subject-kind").textContent = subject.kind_name;
    q("assurance-level").textContent = O.fill(M.level, {level: subject.assurance_level});
    var shown = q("shown-by");
    if (subject.shown_by) shown.textContent = subject.shown_by.text;
    O.show(shown, !!subject.shown_by);
    [subjectBox, materialsBox, faceBox].forEach(function (box) { O.show(box, true); });
  }

  /* A licence shown as an OCV1 code (亮证): what it says, checked by the server. */
  function showLicence(licence) {
    var box = q("licence");
    box.textContent = "";
    var title = document.createElement("h2");
    title.textContent = (licence.type || "") + (licence.issuer ? " · " + licence.issuer : "");
    box.appendChild(title);
    var verdict = document.createElement("p");
    verdict.setAttribute("data-test", "licence-verdict");
    verdict.className = licence.valid ? "ok" : "error";
    verdict.textContent = licence.valid ? M.licence_valid
      : O.fill(M.licence_invalid, {problems: licence.problems.join(", ")});
    box.appendChild(verdict);
    var list = document.createElement("dl");
    licence.claims.forEach(function (claim) {
      var term = document.createElement("dt"), value = document.createElement("dd");
      term.textContent = claim.name;
      value.textContent = claim.value;
      list.appendChild(term);
      list.appendChild(value);
    });
    box.appendChild(list);
    O.show(box, true);
  }

  function submitCode(code) {
    code = (code || "").trim();
    if (!code || busy) return;
    busy = true;
    resetResult();
    showError("");
    call("POST", "/counter/api/scans", {json: {code: code, purpose: purpose.value}})
      .then(function (answer) { return answer.licence ? showLicence(answer.licence) : showSubject(answer); })
      .catch(function (error) { if (!signedOut(error)) showError(refusal(error)); })
      .then(function () { busy = false; scanInput.value = ""; scanInput.focus(); });
  }

  scanForm.addEventListener("submit", function (event) {
    event.preventDefault();
    submitCode(scanInput.value);
  });

  /* The camera: frames decoded with the vendored jsQR until a code is found. */
  function startCamera() {
    if (stream) return Promise.resolve(stream);
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return Promise.reject(new Error(M.camera_unavailable));
    }
    return navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false})
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        O.show(video, true);
        video.classList.remove("hidden");
        return video.play().then(function () { return s; });
      })
      .catch(function () { throw new Error(M.camera_unavailable); });
  }

  function frame(maxSide) {
    var w = video.videoWidth, h = video.videoHeight;
    var scale = Math.min(1, maxSide / Math.max(w, h));
    var canvas = document.createElement("canvas");
    canvas.width = Math.round(w * scale);
    canvas.height = Math.round(h * scale);
    var context = canvas.getContext("2d", {willReadFrequently: true});
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    return {canvas: canvas, context: context};
  }

  function decodeLoop() {
    if (!scanning) return;
    if (video.readyState >= 2 && video.videoWidth) {
      var shot = frame(800);
      var image = shot.context.getImageData(0, 0, shot.canvas.width, shot.canvas.height);
      var found = window.jsQR(image.data, image.width, image.height, {inversionAttempts: "dontInvert"});
      if (found && found.data) {
        scanning = false;
        submitCode(found.data);
        return;
      }
    }
    setTimeout(decodeLoop, 150);
  }

  q("scan-camera").addEventListener("click", function () {
    showError("");
    startCamera().then(function () { scanning = true; decodeLoop(); })
      .catch(function (error) { showError(error.message); });
  });

  /* Materials: ask, then watch the answer arrive. */
  function selectedTypes() {
    return Array.prototype.filter.call(q("request-type").options, function (o) { return o.selected; })
      .map(function (o) { return o.value; });
  }

  function setStatus(status) {
    requestStatus.textContent = M.status[status] || status;
    requestStatus.className = "badge " + (status === "approved" ? "ok" : status === "pending" ? "wait" : "bad");
    requestStatus.dataset.status = status;
    O.show(requestStatus, true);
  }

  function showMaterials(list) {
    materials.textContent = "";
    list.forEach(function (item) {
      var claims = O.el("dl", {"class": "claims"});
      item.claims.forEach(function (claim) {
        claims.appendChild(O.el("dt", {text: claim.label}));
        claims.appendChild(O.el("dd", {text: claim.value}));
      });
      materials.appendChild(O.el("div", {"class": "card", "data-test": "material"}, [
        O.el("h3", {text: item.type}),
        O.el("p", {}, [O.el("span", {"class": "badge " + (item.valid ? "ok" : "bad"),
                                     "data-test": "material-valid",
                                     text: item.valid ? M.valid : M.invalid + " (" + item.problems.join(", ") + ")"}),
                       document.createTextNode(" " + (item.issuer || ""))]),
        claims]));
    });
  }

  function poll(requestId) {
    call("GET", "/counter/api/scans/" + encodeURIComponent(scanId) + "/requests/" + encodeURIComponent(requestId))
      .then(function (state) {
        setStatus(state.status);
        if (state.status === "pending") {
          polling = setTimeout(function () { poll(requestId); }, 1500);
          return;
        }
        polling = null;
        if (state.materials) showMaterials(state.materials);
        if (state.missing && state.missing.length) {
          requestNote.textContent = O.fill(M.missing, {types: state.missing.join("、")});
          O.show(requestNote, true);
        }
      })
      .catch(function (error) {
        if (signedOut(error)) return;
        if (error.status === 0) {  // a network blip: keep watching
          polling = setTimeout(function () { poll(requestId); }, 3000);
          return;
        }
        polling = null;
        requestNote.textContent = error.message;
        O.show(requestNote, true);
      });
  }

  requestForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!scanId) return;
    var item = q("request-item").value;
    var body = item ? {service_item: item} : {types: selectedTypes()};
    if (polling) { clearTimeout(polling); polling = null; }
    materials.textContent = "";
    O.show(requestNote, false);
    call("POST", "/counter/api/scans/" + encodeURIComponent(scanId) + "/requests", {json: body})
      .then(function (created) {
        setStatus(created.status);
        if (created.missing.length) {
          requestNote.textContent = O.fill(M.missing, {types: created.missing.join("、")});
          O.show(requestNote, true);
        }
        poll(created.request_id);
      })
      .catch(function (error) {
        if (signedOut(error)) return;
        requestNote.textContent = error.message;
        O.show(requestNote, true);
      });
  });

  /* The face check: one frame from the camera, sent as a JPEG. */
  q("face-check").addEventListener("click", function () {
    if (!scanId) return;
    scanning = false;
    faceResult.textContent = M.face.checking;
    startCamera()
      .then(function () {
        return new Promise(function (resolve) {
          (function wait() { if (video.readyState >= 2 && video.videoWidth) resolve(); else setTimeout(wait, 100); })();
        });
      })
      .then(function () {
        return new Promise(function (resolve) { frame(1024).canvas.toBlob(resolve, "image/jpeg", 0.9); });
      })
      .then(function (blob) {
        var form = new FormData();
        form.append("image", blob, "face.jpg");
        return call("POST", "/counter/api/scans/" + encodeURIComponent(scanId) + "/face", {form: form});
      })
      .then(function (answer) {
        faceResult.textContent = answer.match ? M.face.match : M.face.mismatch;
        faceResult.dataset.match = String(answer.match);
      })
      .catch(function (error) {
        if (signedOut(error)) return;
        faceResult.textContent = error.message;
        faceResult.dataset.match = "";
      });
  });

  document.body.dataset.ready = "counter";  // automation: the console answers from here on
})();
