/* Shared by the pages: their messages, JSON calls to this origin, dates in the reader's locale. */
(function () {
  "use strict";
  var lang = document.documentElement.lang || "zh-CN";
  var node = document.getElementById("messages");
  var messages = node ? JSON.parse(node.textContent) : {};
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');

  function fill(text, values) {
    return String(text).replace(/%\((\w+)\)s/g, function (_, name) {
      return values && name in values ? values[name] : "";
    });
  }

  /* A problem+json answer (or a network failure) as an Error with .status, .type, .problem. */
  function failure(status, problem) {
    var error = new Error((problem && (problem.detail || problem.title)) || messages.try_again || "Error");
    error.status = status;
    error.problem = problem || {};
    error.type = problem && problem.type ? problem.type.split("/").pop() : (status ? "http-" + status : "network");
    return error;
  }

  /* fetch() on this origin, asking for the page's language; resolves with the JSON body
     (or null for 204), rejects with failure(). */
  function call(method, path, options) {
    options = options || {};
    var headers = {"Accept-Language": lang, "Accept": "application/json"};
    if (csrfMeta) headers["X-CSRF-Token"] = csrfMeta.content;
    if (options.token) headers["Authorization"] = "Bearer " + options.token;
    var body;
    if (options.form) {
      body = options.form;
    } else if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.json);
    }
    return fetch(path, {method: method, headers: headers, body: body, credentials: "same-origin",
                        cache: "no-store"})
      .catch(function () { throw failure(0, null); })
      .then(function (response) {
        if (response.status === 204) return null;
        return response.json().catch(function () { return null; }).then(function (data) {
          if (!response.ok) throw failure(response.status, data);
          return data;
        });
      });
  }

  function formatDate(text) {
    if (!text) return "";
    var when = new Date(text);
    if (isNaN(when)) return text;
    return new Intl.DateTimeFormat(lang, {dateStyle: "medium", timeStyle: "short"}).format(when);
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else if (name === "class") node.className = attrs[name];
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function show(node, on) { node.hidden = !on; }

  window.OneCode = {lang: lang, messages: messages, fill: fill, call: call,
                    formatDate: formatDate, el: el, show: show};
})();
