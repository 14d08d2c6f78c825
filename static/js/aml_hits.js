// The AML hits section (#aml-hits): small enhancements; everything works without them.
(function () {
  "use strict";
  if (window.amlHitsReady) {
    return;
  }
  window.amlHitsReady = true;

  // A refused or failed disposition answers 4xx/5xx with the section and its message:
  // show it (htmx leaves error answers unswapped by default).
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    var target = event.detail.target;
    if (status >= 400 && target && target.id === "aml-hits") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // "Select unreviewed": tick every unreviewed hit shown (again: untick them).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-aml-select]");
    if (!button) {
      return;
    }
    var boxes = document.querySelectorAll("#aml-hits input[name=hit][data-unreviewed]");
    var all = Array.prototype.every.call(boxes, function (box) { return box.checked; });
    boxes.forEach(function (box) { box.checked = !all; });
  });

  function reveal() {
    document.querySelectorAll("#aml-hits [data-aml-select]").forEach(function (button) {
      button.hidden = false;
    });
  }
  document.addEventListener("DOMContentLoaded", reveal);
  document.addEventListener("htmx:afterSettle", reveal);
  reveal();
})();
