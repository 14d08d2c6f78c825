// Copy buttons: <button data-copy="ID"> copies the value (or text) of the element with that id.
// A static file, no inline script: the CSP stays strict.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button) return;
  var source = document.getElementById(button.getAttribute("data-copy"));
  if (!source) return;
  var text = "value" in source ? source.value : source.textContent;
  var done = function () {
    button.textContent = "Copied";
    button.setAttribute("data-copied", "true");
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, function () {
      source.select && source.select();
    });
  } else if (source.select) {
    source.select();
    document.execCommand("copy");
    done();
  }
});
