// Sends the CSRF token with every htmx request, and keeps the UI honest while
// requests run. Self-hosted so the Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";
  // Styles that only make sense with JavaScript (the collapsed phone menu) hang off this class.
  document.documentElement.classList.add("js");
  // The phone menu opens and closes; on wide screens the button is not shown.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest(".menu-toggle");
    if (!btn) return;
    var open = btn.getAttribute("aria-expanded") !== "true";
    btn.setAttribute("aria-expanded", open ? "true" : "false");
    var header = btn.closest("header");
    if (header) header.classList.toggle("open", open);
  });
  // A table wider than a phone scrolls sideways in its frame; keyboard users
  // reach that frame with Tab and scroll it with the arrow keys.
  function scrollableTables() {
    document.querySelectorAll(".table-wrap").forEach(function (w) {
      if (w.scrollWidth > w.clientWidth + 1) {
        w.tabIndex = 0;
        w.setAttribute("role", "region");
        var h = w.previousElementSibling;
        w.setAttribute("aria-label", (h && /^H[1-6]$/.test(h.tagName) ? h.textContent : document.title).trim());
      } else if (w.getAttribute("role") === "region") {
        w.removeAttribute("tabindex");
        w.removeAttribute("role");
        w.removeAttribute("aria-label");
      }
    });
  }
  document.addEventListener("DOMContentLoaded", scrollableTables);
  window.addEventListener("resize", scrollableTables);
  document.addEventListener("htmx:afterSettle", scrollableTables);
  function token() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }
  document.addEventListener("htmx:configRequest", function (e) {
    e.detail.headers["X-CSRF-Token"] = token();
  });
  // A failed htmx request still shows the server's error partial instead of nothing.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var s = e.detail.xhr.status;
    if (s >= 400 && s < 600 && e.detail.xhr.getResponseHeader("HX-Error") === "1") {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });
  document.addEventListener("htmx:sendError", function () {
    var el = document.getElementById("net-error");
    if (el) el.hidden = false;
  });
  // Forms marked data-confirm ask first when JavaScript runs (htmx forms use hx-confirm).
  document.addEventListener("submit", function (e) {
    var f = e.target;
    var msg = f.getAttribute && f.getAttribute("data-confirm");
    if (msg && !f.hasAttribute("hx-post") && !window.confirm(msg)) e.preventDefault();
  });
  // Forms marked data-disable-on-submit send once: their buttons are disabled
  // once the submission is under way (after this event, so the clicked
  // button's value is still sent). The server enforces it too.
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (e.defaultPrevented || !f.hasAttribute || !f.hasAttribute("data-disable-on-submit")) return;
    setTimeout(function () {
      f.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) { b.disabled = true; });
    }, 0);
  });
  // An avatar that fails to load (WeChat's image hosts can be unreachable)
  // falls back to the placeholder; the CSP forbids inline onerror handlers.
  document.addEventListener("error", function (e) {
    var img = e.target;
    if (img.tagName === "IMG" && img.dataset.fallback && !img.dataset.failed) {
      img.dataset.failed = "1";
      img.src = img.dataset.fallback;
    }
  }, true);
  // "Select all" checkboxes for bulk actions.
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.matches && t.matches("input[data-select-all]")) {
      document.querySelectorAll('input[name="' + t.getAttribute("data-select-all") + '"]').forEach(function (c) { c.checked = t.checked; });
    }
  });
  // "All N matching the filter": the run takes the filter, so the rows of
  // this page show as selected and cannot be unticked one by one.
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.matches && t.matches("input[data-select-matching]")) {
      document.querySelectorAll('input[name="' + t.getAttribute("data-select-matching") + '"], input[data-select-all]').forEach(function (c) {
        c.checked = t.checked;
        c.disabled = t.checked;
      });
    }
  });
  // Copy buttons (data-copy names the element whose text is copied); the
  // status beside the button says whether it worked.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("button[data-copy]");
    if (!btn) return;
    var src = document.getElementById(btn.getAttribute("data-copy"));
    var status = btn.parentNode.querySelector("[data-copy-status]");
    if (!src) return;
    var text = src.value !== undefined ? src.value : src.textContent;
    function say(ok) {
      if (status) status.textContent = btn.getAttribute(ok ? "data-copied" : "data-copy-failed") || "";
    }
    function fallback() {
      if (src.select) src.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (err) { ok = false; }
      say(ok);
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { say(true); }, fallback);
    } else {
      fallback();
    }
  });
  // Render times in the zone the server chose is already done server side; this
  // only reveals elements that need JavaScript.
  document.querySelectorAll("[data-js-only]").forEach(function (el) { el.hidden = false; });
})();
