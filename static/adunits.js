// The ad units of a Mini Program: the create form shows the fields of the
// chosen kind of ad only, and a unit's code is copied with one click.
// Self-hosted so the Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";
  // Fields of one kind of ad (data-for-slot) show only when it is chosen;
  // without JavaScript they all show and the server reads those of the kind.
  function showSlotFields(root) {
    (root || document).querySelectorAll("select[data-adunit-slot]").forEach(function (sel) {
      var form = sel.form;
      if (!form) return;
      form.querySelectorAll("[data-for-slot]").forEach(function (fs) {
        fs.hidden = fs.getAttribute("data-for-slot") !== sel.value;
      });
    });
  }
  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("select[data-adunit-slot]")) showSlotFields(e.target.form);
  });
  document.addEventListener("DOMContentLoaded", function () { showSlotFields(document); });
  document.addEventListener("htmx:afterSettle", function () { showSlotFields(document); });
  showSlotFields(document);

  // Copy buttons for code snippets (data-copy-snippet names the element):
  // the clipboard API first; where it is refused, the text is selected and
  // copied the old way, and left selected for Ctrl+C if that fails too.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("button[data-copy-snippet]");
    if (!btn) return;
    var src = document.getElementById(btn.getAttribute("data-copy-snippet"));
    if (!src) return;
    var text = src.textContent;
    function say(ok) {
      btn.textContent = btn.getAttribute(ok ? "data-copied" : "data-copy-failed") || btn.textContent;
    }
    function fallback() {
      var range = document.createRange();
      range.selectNodeContents(src);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
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
})();
