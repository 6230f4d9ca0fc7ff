/*
 * Harness page-feedback widget.
 *
 *   <script src="http://localhost:7860/widget.js"></script>
 *   <script src="http://localhost:7860/widget.js" data-token="HARNESS_TOKEN"></script>
 *
 * Adds a small "Feedback" button to any page (file:// pages included) that posts
 * {url, rating, comment, selector} to /api/page-feedback on the server this script was
 * loaded from. Everything lives in a shadow root so the page's CSS cannot reach it and
 * its CSS cannot reach the page. No dependencies.
 */
(function () {
  "use strict";
  if (window.__harnessFeedbackWidget) return;
  window.__harnessFeedbackWidget = true;

  var script = document.currentScript;
  var server = new URL(script ? script.src : "http://localhost:7860/widget.js").origin;
  var token = script && script.dataset ? script.dataset.token : "";

  var STYLE = [
    ":host{all:initial;position:fixed;right:16px;bottom:16px;z-index:2147483647;",
    "font:14px/1.4 system-ui,-apple-system,Segoe UI,sans-serif;color:#1b1f24}",
    "button{font:inherit;cursor:pointer;border-radius:6px;border:1px solid #c8ccd1;",
    "background:#fff;padding:4px 10px}",
    ".open{background:#1b1f24;color:#fff;border-color:#1b1f24;padding:6px 14px;",
    "border-radius:18px;box-shadow:0 2px 8px rgba(0,0,0,.25)}",
    "form{width:260px;margin-bottom:8px;padding:12px;background:#fff;border-radius:8px;",
    "box-shadow:0 4px 18px rgba(0,0,0,.25);display:grid;gap:8px}",
    "form[hidden]{display:none}",
    ".ratings{display:flex;gap:6px}",
    ".ratings button[aria-pressed=true]{background:#e7f0ff;border-color:#3d7be0}",
    "textarea{font:inherit;resize:vertical;min-height:60px;padding:6px;",
    "border:1px solid #c8ccd1;border-radius:6px}",
    ".row{display:flex;justify-content:space-between;align-items:center;gap:6px}",
    ".status{font-size:12px;color:#57606a;min-height:1em}",
    ".send{background:#3d7be0;color:#fff;border-color:#3d7be0}",
  ].join("");

  var host = document.createElement("div");
  host.setAttribute("data-harness-feedback", "");
  var root = host.attachShadow({ mode: "open" });
  root.innerHTML =
    "<style>" + STYLE + "</style>" +
    '<form hidden aria-label="Page feedback">' +
    '<div class="ratings">' +
    '<button type="button" data-rating="up" aria-pressed="false" title="Good">\u{1F44D}</button>' +
    '<button type="button" data-rating="down" aria-pressed="false" title="Bad">\u{1F44E}</button>' +
    "</div>" +
    '<textarea name="comment" maxlength="2000" placeholder="What about this page?"></textarea>' +
    '<div class="row"><button type="button" class="pick" title="Click an element of the page ' +
    'to attach it">Point at element</button>' +
    '<button type="submit" class="send">Send</button></div>' +
    '<div class="status" role="status"></div>' +
    "</form>" +
    '<button type="button" class="open" aria-expanded="false">Feedback</button>';

  var form = root.querySelector("form");
  var toggle = root.querySelector(".open");
  var status = root.querySelector(".status");
  var comment = root.querySelector("textarea");
  var rating = null;
  var selector = null;

  toggle.addEventListener("click", function () {
    form.hidden = !form.hidden;
    toggle.setAttribute("aria-expanded", String(!form.hidden));
    if (!form.hidden) comment.focus();
  });

  root.querySelectorAll("[data-rating]").forEach(function (button) {
    button.addEventListener("click", function () {
      rating = rating === button.dataset.rating ? null : button.dataset.rating;
      root.querySelectorAll("[data-rating]").forEach(function (b) {
        b.setAttribute("aria-pressed", String(b.dataset.rating === rating));
      });
    });
  });

  // The next click on the page (outside the widget) names the element the feedback is about.
  root.querySelector(".pick").addEventListener("click", function () {
    status.textContent = "Click the element on the page\u2026";
    document.addEventListener("click", function pick(event) {
      if (event.target === host) return;
      event.preventDefault();
      event.stopPropagation();
      document.removeEventListener("click", pick, true);
      selector = cssPath(event.target);
      status.textContent = "Attached: " + selector;
    }, true);
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!rating && !comment.value.trim()) {
      status.textContent = "Choose \u{1F44D}/\u{1F44E} or write a comment.";
      return;
    }
    var body = { url: location.href };
    if (rating) body.rating = rating;
    if (comment.value.trim()) body.comment = comment.value;
    if (selector) body.selector = selector;
    var headers = { "Content-Type": "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    status.textContent = "Sending\u2026";
    fetch(server + "/api/page-feedback", {
      method: "POST", headers: headers, body: JSON.stringify(body),
    }).then(function (response) {
      if (!response.ok) {
        return response.json().then(function (answer) {
          throw new Error(answer && answer.error ? answer.error.message : response.statusText);
        }, function () { throw new Error(response.status + " " + response.statusText); });
      }
      status.textContent = "Thank you \u2014 saved.";
      comment.value = "";
      selector = null;
    }).catch(function (error) {
      status.textContent = "Not sent: " + error.message;
    });
  });

  function cssPath(element) {
    var parts = [];
    while (element && element.nodeType === 1 && parts.length < 6) {
      if (element.id) {
        parts.unshift("#" + CSS.escape(element.id));
        break;
      }
      var part = element.tagName.toLowerCase();
      var parent = element.parentElement;
      if (parent) {
        var same = Array.prototype.filter.call(parent.children, function (child) {
          return child.tagName === element.tagName;
        });
        if (same.length > 1) part += ":nth-of-type(" + (same.indexOf(element) + 1) + ")";
      }
      parts.unshift(part);
      element = parent;
    }
    return parts.join(" > ").slice(0, 1000);
  }

  function mount() {
    document.body.appendChild(host);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
