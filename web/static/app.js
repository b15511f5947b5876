/* The resident's H5: sign in with the public API, then my code, wallet, consents, scan
   history, partner sign-in and messages. The tokens live in this tab's sessionStorage; the
   offline device's secret in localStorage, so that the code shows with no network. */
(function () {
  "use strict";
  var O = window.OneCode, M = O.messages;
  var q = function (hook) { return document.querySelector('[data-test="' + hook + '"]'); };
  var byId = function (id) { return document.getElementById(id); };
  var TOKENS = "onecode.tokens", DEVICE = "onecode.device";
  var tokens = JSON.parse(sessionStorage.getItem(TOKENS) || "null");
  var current = null, codeTimer = null, tickTimer = null, shownCode = null, codeExpiry = 0;
  var pendingLogin = null;

  /* Calls with the access token; one refresh when it has expired. */
  function api(method, path, options) {
    options = options || {};
    if (!tokens) return Promise.reject(signInAgain());
    options.token = tokens.access_token;
    return O.call(method, "/api/v1" + path, options).catch(function (error) {
      if (error.status !== 401 || error.type !== "token-expired") throw noteFailure(error);
      return O.call("POST", "/api/v1/auth/refresh", {json: {refresh_token: tokens.refresh_token}})
        .then(function (pair) {
          keepTokens(pair);
          options.token = pair.access_token;
          return O.call(method, "/api/v1" + path, options);
        }, function () { throw signInAgain(); })
        .catch(function (e) { throw noteFailure(e); });
    });
  }

  function noteFailure(error) {
    if (error.status === 401) return signInAgain();
    if (error.status === 0) goOffline();
    return error;
  }

  function signInAgain() {
    dropTokens();
    showLogin(M.expired_signin);
    var error = new Error(M.expired_signin);
    error.status = 401;
    return error;
  }

  function keepTokens(pair) {
    tokens = {access_token: pair.access_token, refresh_token: pair.refresh_token};
    sessionStorage.setItem(TOKENS, JSON.stringify(tokens));
  }

  function dropTokens() {
    tokens = null;
    sessionStorage.removeItem(TOKENS);
    clearTimeout(codeTimer);
    clearInterval(tickTimer);
  }

  /* Sign-in ------------------------------------------------------------------------------ */
  var loginError = byId("login-error");

  function showLogin(message) {
    O.show(byId("home"), false);
    O.show(byId("login"), true);
    loginError.textContent = message || "";
    O.show(loginError, !!message);
  }

  byId("login-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var body = {username: q("login-username").value.trim(), password: q("login-password").value};
    var otp = q("login-otp").value.trim();
    if (otp) body.otp = otp;
    O.show(loginError, false);
    O.call("POST", "/api/v1/auth/login", {json: body}).then(function (pair) {
      keepTokens(pair);
      q("login-password").value = "";
      q("login-otp").value = "";
      start();
    }).catch(function (error) {
      if (error.type === "otp-required") {
        O.show(byId("otp-field"), true);
        q("login-otp").focus();
        showLogin(M.otp_needed);
      } else if (error.status === 0 && storedDevice()) {
        startOffline();
      } else if (error.type === "invalid-credentials") {
        showLogin(M.bad_login);
      } else {
        showLogin(error.status === 0 ? M.no_network_no_device : error.message);
      }
    });
  });

  byId("logout").addEventListener("click", function () {
    var device = storedDevice();
    var removing = device && tokens ? api("DELETE", "/me/devices/" + encodeURIComponent(device.device_id)).catch(function () {}) : Promise.resolve();
    removing.then(function () {
      return tokens ? api("POST", "/auth/logout").catch(function () {}) : null;
    }).then(function () {
      localStorage.removeItem(DEVICE);
      dropTokens();
      showLogin("");
    });
  });

  /* Tabs --------------------------------------------------------------------------------- */
  var loaders = {code: loadCode, wallet: loadWallet, consents: loadConsents, scans: loadScans,
                 partner: function () {}, notices: loadNotices};

  function openTab(name) {
    current = name;
    document.querySelectorAll("nav.tabs button").forEach(function (button) {
      if (button.dataset.tab === name) button.setAttribute("aria-current", "page");
      else button.removeAttribute("aria-current");
    });
    document.querySelectorAll(".panel").forEach(function (panel) {
      O.show(panel, panel.id === "panel-" + name);
    });
    if (name !== "code") { clearTimeout(codeTimer); clearInterval(tickTimer); }
    loaders[name]();
  }

  document.querySelectorAll("nav.tabs button").forEach(function (button) {
    button.addEventListener("click", function () { openTab(button.dataset.tab); });
  });

  function start() {
    O.show(byId("login"), false);
    O.show(byId("home"), true);
    ensureDevice();
    refreshCounts();
    openTab(pendingLogin ? "partner" : "code");
    if (pendingLogin) lookUp(pendingLogin);
  }

  /* My code -------------------------------------------------------------------------------- */
  var canvas = q("my-code"), expires = q("code-expires");

  function draw(text) {
    var qr = window.qrcode(0, "M");
    // Signed codes are base45: QR alphanumeric mode keeps them small. Device codes are not.
    qr.addData(text, /^[0-9A-Z $%*+\-.\/:]*$/.test(text) ? "Alphanumeric" : "Byte");
    qr.make();
    var count = qr.getModuleCount(), quiet = 4, size = count + quiet * 2;
    var scale = Math.max(1, Math.floor(300 / size));
    canvas.width = canvas.height = size * scale;
    var context = canvas.getContext("2d");
    context.fillStyle = "#fff";
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.fillStyle = "#000";
    for (var row = 0; row < count; row++) {
      for (var col = 0; col < count; col++) {
        if (qr.isDark(row, col)) context.fillRect((col + quiet) * scale, (row + quiet) * scale, scale, scale);
      }
    }
    canvas.dataset.code = text;
    shownCode = text;
  }

  function tick() {
    var left = Math.max(0, Math.round((codeExpiry - Date.now()) / 1000));
    expires.textContent = O.fill(M.expires_in, {seconds: left});
    expires.dataset.seconds = String(left);
  }

  function loadCode() {
    clearTimeout(codeTimer);
    if (navigator.onLine === false) {  // no call that is bound to fail
      goOffline();
      showOfflineCode();
      codeTimer = setTimeout(loadCode, 3000);
      return;
    }
    api("GET", "/me/code").then(function (issued) {
      setOnline();
      if (issued.code !== shownCode) draw(issued.code);
      codeExpiry = Date.parse(issued.expires_at);
      tick();
      clearInterval(tickTimer);
      tickTimer = setInterval(tick, 1000);
      // Poll often (the code is cached: cheap) so a scanned code is replaced at once;
      // never later than refresh_after.
      var untilRefresh = Date.parse(issued.refresh_after) - Date.now();
      codeTimer = setTimeout(loadCode, Math.max(500, Math.min(2000, untilRefresh)));
    }).catch(function (error) {
      if (error.status === 401) return;
      if (error.status === 0) { showOfflineCode(); codeTimer = setTimeout(loadCode, 5000); }
      else codeTimer = setTimeout(loadCode, 5000);
    });
  }

  /* Offline codes: a device this page registered; its secret stays in this browser. */
  function storedDevice() { return JSON.parse(localStorage.getItem(DEVICE) || "null"); }

  function ensureDevice() {
    if (storedDevice()) return;
    api("POST", "/me/devices").then(function (device) {
      localStorage.setItem(DEVICE, JSON.stringify(device));
    }).catch(function (error) {
      if (error.type === "too-many-devices") { byId("offline").textContent = M.too_many_devices; O.show(byId("offline"), true); }
    });
  }

  function base32(text) {
    var alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", bits = 0, value = 0, out = [];
    text.replace(/=+$/, "").toUpperCase().split("").forEach(function (ch) {
      value = (value << 5) | alphabet.indexOf(ch);
      bits += 5;
      if (bits >= 8) { out.push((value >>> (bits - 8)) & 255); bits -= 8; }
    });
    return new Uint8Array(out);
  }

  function totp(device, step) {
    var counter = new Uint8Array(8), n = step;
    for (var i = 7; i >= 0; i--) { counter[i] = n & 255; n = Math.floor(n / 256); }
    return crypto.subtle.importKey("raw", base32(device.secret), {name: "HMAC", hash: "SHA-1"}, false, ["sign"])
      .then(function (key) { return crypto.subtle.sign("HMAC", key, counter); })
      .then(function (signature) {
        var h = new Uint8Array(signature), offset = h[h.length - 1] & 15;
        var binary = ((h[offset] & 127) << 24) | (h[offset + 1] << 16) | (h[offset + 2] << 8) | h[offset + 3];
        var digits = device.digits || 8;
        return String(binary % Math.pow(10, digits)).padStart(digits, "0");
      });
  }

  function showOfflineCode() {
    var device = storedDevice();
    var note = byId("offline-note");
    if (!device) {
      byId("offline").textContent = M.no_network_no_device;
      O.show(byId("offline"), true);
      return;
    }
    var period = device.period || 30, now = Date.now() / 1000, step = Math.floor(now / period);
    totp(device, step).then(function (otp) {
      draw("OCD1:" + device.device_id + ":" + otp);
      codeExpiry = (step + 1) * period * 1000;
      tick();
      clearInterval(tickTimer);
      tickTimer = setInterval(tick, 1000);
      note.textContent = M.offline;
      O.show(note, true);
      canvas.dataset.offline = "true";
    });
  }

  function goOffline() {
    byId("offline").textContent = M.network;
    O.show(byId("offline"), true);
  }

  function setOnline() {
    O.show(byId("offline"), false);
    O.show(byId("offline-note"), false);
    delete canvas.dataset.offline;
  }

  function startOffline() {
    O.show(byId("login"), false);
    O.show(byId("home"), true);
    goOffline();
    current = "code";
    document.querySelectorAll(".panel").forEach(function (panel) { O.show(panel, panel.id === "panel-code"); });
    showOfflineCode();
    codeTimer = setTimeout(function retry() {
      if (tokens) loadCode(); else showOfflineCode();
      codeTimer = setTimeout(retry, 5000);
    }, 5000);
  }

  /* Wallet ---------------------------------------------------------------------------------- */
  function typeName(item) { return O.lang === "en" ? (M.types[item.type] || item.name) : item.name; }

  function loadWallet() {
    var list = byId("wallet-list");
    api("GET", "/me/wallet").then(function (wallet) {
      list.textContent = "";
      var items = wallet.cards.concat(wallet.certificates);
      if (!items.length) list.appendChild(O.el("p", {"class": "muted", text: M.no_cards}));
      items.forEach(function (item) {
        list.appendChild(O.el("div", {"class": "card", "data-test": "wallet-card", "data-type": item.type}, [
          O.el("h2", {text: typeName(item)}),
          O.el("p", {"class": "muted", text: M.issued_by + ": " + item.issuer.name}),
          item.valid_until ? O.el("p", {"class": "muted", text: M.valid_until + ": " + O.formatDate(item.valid_until)}) : null]));
      });
    }).catch(function () {});
  }

  /* Consents --------------------------------------------------------------------------------- */
  function refreshCounts() {
    api("GET", "/me/consents?status=pending").then(function (list) { count("consent-count", list.length); }).catch(function () {});
    api("GET", "/me/notices").then(function (list) {
      count("notice-count", list.filter(function (n) { return !n.read_at; }).length);
    }).catch(function () {});
  }

  function count(id, n) {
    var badge = byId(id);
    badge.textContent = String(n);
    O.show(badge, n > 0);
  }

  function loadConsents() {
    var list = byId("consent-list");
    api("GET", "/me/consents?status=pending").then(function (consents) {
      list.textContent = "";
      count("consent-count", consents.length);
      if (!consents.length) list.appendChild(O.el("p", {"class": "muted", text: M.nothing_pending}));
      consents.forEach(function (consent) {
        var names = consent.types.map(function (t) { return M.types[t] || t; }).join("、");
        var approve = O.el("button", {type: "button", "data-test": "consent-approve", text: M.approve});
        var deny = O.el("button", {type: "button", "class": "danger", "data-test": "consent-deny", text: M.deny});
        var card = O.el("div", {"class": "card", "data-test": "consent", "data-id": consent.id}, [
          O.el("p", {"class": "big", "data-test": "consent-asker", text: consent.service_point.name}),
          O.el("p", {text: M.asks_for + ": " + names, "data-test": "consent-types"}),
          O.el("p", {"class": "muted", text: M.purpose + ": " + (M.purposes[consent.purpose] || consent.purpose)}),
          consent.on_behalf_of ? O.el("p", {"class": "muted", text: O.fill(M.on_behalf_of, {name: consent.on_behalf_of.display_name || consent.on_behalf_of.name || ""})}) : null,
          O.el("p", {"class": "muted", text: M.until + ": " + O.formatDate(consent.expires_at)}),
          O.el("div", {"class": "row"}, [approve, deny])]);
        approve.addEventListener("click", function () { answer(consent.id, "approve"); });
        deny.addEventListener("click", function () { answer(consent.id, "deny"); });
        list.appendChild(card);
      });
    }).catch(function () {});
  }

  function answer(id, decision) {
    var message = byId("consent-message");
    api("POST", "/me/consents/" + encodeURIComponent(id) + "/" + decision).then(function () {
      message.textContent = decision === "approve" ? M.approved : M.denied;
      message.className = "message " + (decision === "approve" ? "ok" : "");
      O.show(message, true);
      loadConsents();
    }).catch(function (error) {
      message.textContent = error.message;
      message.className = "message error";
      O.show(message, true);
      loadConsents();
    });
  }

  /* Scan history ----------------------------------------------------------------------------- */
  function loadScans() {
    var list = byId("scan-history");
    api("GET", "/me/scans").then(function (scans) {
      list.textContent = "";
      if (!scans.length) list.appendChild(O.el("li", {"class": "muted", text: M.no_scans}));
      scans.forEach(function (scan) {
        var shared = (scan.shared || []).map(function (entry) {
          if (entry.kind === "face-check") return M.face_check;
          return M.types[entry.type] || entry.type;
        }).filter(Boolean);
        list.appendChild(O.el("li", {"class": "card", "data-test": "scan-entry"}, [
          O.el("p", {"class": "big", text: scan.service_point.name}),
          O.el("p", {text: O.formatDate(scan.scanned_at) + " · " + (M.purposes[scan.purpose] || scan.purpose)}),
          shared.length ? O.el("p", {"class": "muted", text: M.shared + ": " + shared.join("、")}) : null]));
      });
    }).catch(function () {});
  }

  /* Partner sign-in ---------------------------------------------------------------------------- */
  var partnerMessage = byId("partner-message"), partnerRequest = byId("partner-request");

  function partnerSays(text, ok) {
    partnerMessage.textContent = text;
    partnerMessage.className = "message" + (ok ? " ok" : ok === false ? " error" : "");
    O.show(partnerMessage, !!text);
  }

  byId("partner-form").addEventListener("submit", function (event) {
    event.preventDefault();
    lookUp(q("user-code").value.trim());
  });

  function lookUp(code) {
    O.show(partnerRequest, false);
    partnerSays("");
    if (!code) return;
    api("GET", "/me/logins/" + encodeURIComponent(code)).then(function (login) {
      pendingLogin = login.user_code;
      byId("partner-asks").textContent = O.fill(M.partner_asks, {partner: login.partner.name, code: login.user_code});
      byId("partner-reads").textContent = login.may_read.length ? M.may_read + ": " + login.may_read.join("; ") : "";
      O.show(partnerRequest, true);
    }).catch(function (error) {
      partnerSays(error.status === 404 ? M.login_unknown : error.message, false);
    });
  }

  function answerLogin(decision) {
    if (!pendingLogin) return;
    api("POST", "/me/logins/" + encodeURIComponent(pendingLogin) + "/" + decision).then(function () {
      partnerSays(decision === "approve" ? M.login_approved : M.login_denied, decision === "approve");
    }).catch(function (error) {
      partnerSays(error.status === 404 ? M.login_unknown : error.message, false);
    }).then(function () {
      pendingLogin = null;
      O.show(partnerRequest, false);
    });
  }

  byId("user-code-approve").addEventListener("click", function () { answerLogin("approve"); });
  byId("user-code-deny").addEventListener("click", function () { answerLogin("deny"); });

  /* Messages ------------------------------------------------------------------------------------ */
  function loadNotices() {
    var list = byId("notice-list");
    api("GET", "/me/notices").then(function (notices) {
      list.textContent = "";
      if (!notices.length) list.appendChild(O.el("p", {"class": "muted", text: M.no_notices}));
      notices.forEach(function (notice) {
        list.appendChild(O.el("div", {"class": "card", "data-test": "notice"}, [
          notice.read_at ? null : O.el("span", {"class": "badge wait", text: M.unread}),
          O.el("p", {text: notice.text}),
          O.el("p", {"class": "muted", text: O.formatDate(notice.created_at)})]));
        if (!notice.read_at) api("POST", "/me/notices/" + encodeURIComponent(notice.id) + "/read").catch(function () {});
      });
      count("notice-count", 0);
    }).catch(function () {});
  }

  /* Start ------------------------------------------------------------------------------------------ */
  var asked = new URLSearchParams(window.location.search).get("user_code");
  if (asked) { q("user-code").value = asked; pendingLogin = asked; }
  window.addEventListener("online", function () { if (tokens && current === "code") loadCode(); });
  window.addEventListener("offline", function () { if (current === "code") { goOffline(); showOfflineCode(); } });
  if (tokens) {
    start();
  } else {
    showLogin("");
  }
  document.body.dataset.ready = "app";  // automation: the page answers from here on
})();
