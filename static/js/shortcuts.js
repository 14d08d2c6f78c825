/* Keyboard shortcuts for reviewers (issue 14). A static file: the CSP allows no inline script.
 *
 * Queue: j/k move through the rows, Enter opens the selected one, / focuses the search,
 * n starts reviewing (the next unclaimed session of this queue).
 * Session: a approve, d decline, r resubmit, n skip to the next session. A decision key only
 * selects its button (and says so): Enter then confirms it. No single key decides anything.
 * ? shows the shortcuts. Nothing fires while typing in a field (Esc leaves the field).
 */
(function () {
  "use strict";

  var DECISIONS = { a: "Approved", d: "Declined", r: "Resubmitted" };
  var NEEDS_COMMENT = { Declined: true, Resubmitted: true };
  var HELP = [
    ["j / k", "next / previous session in the queue"],
    ["Enter", "open the selected session, or confirm the selected decision"],
    ["/", "search the queue"],
    ["n", "start reviewing / skip to the next session"],
    ["a", "select Approve"],
    ["d", "select Decline"],
    ["r", "select Resubmit"],
    ["Esc", "leave a field, close this help"],
    ["?", "show these shortcuts"],
  ];

  function isTyping(element) {
    if (!element || element === document.body) return false;
    var tag = element.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || element.isContentEditable;
  }

  function hint(text) {
    var region = document.getElementById("shortcut-hint");
    if (!region) {
      region = document.createElement("p");
      region.id = "shortcut-hint";
      region.className = "shortcut-hint";
      region.setAttribute("role", "status");
      region.setAttribute("aria-live", "polite");
      document.body.appendChild(region);
    }
    region.textContent = text;
    region.hidden = !text;
  }

  function statusForm() {
    return document.querySelector('form[action$="/status/"]');
  }

  function commentBox() {
    var form = statusForm();
    return form ? form.querySelector('textarea[name="comment"]') : null;
  }

  function selectDecision(status) {
    var form = statusForm();
    if (!form) return false;
    var button = form.querySelector('button[name="new_status"][value="' + status + '"]');
    if (!button || button.disabled) return false;
    var folded = button.closest("details");
    if (folded) folded.open = true; // Resubmit sits in a folded section with its steps.
    var comment = commentBox();
    form.querySelectorAll(".is-armed").forEach(function (other) {
      other.classList.remove("is-armed");
    });
    if (NEEDS_COMMENT[status] && comment && !comment.value.trim()) {
      comment.focus();
      hint(button.textContent.trim() + " needs a comment: type it, press Esc, then the key again.");
      return true;
    }
    button.classList.add("is-armed");
    button.focus();
    hint("Press Enter to " + button.textContent.trim().toLowerCase() + ", Esc to cancel.");
    return true;
  }

  function queueLinks() {
    return Array.prototype.slice.call(
      document.querySelectorAll("#session-rows tbody tr td:nth-child(3) a[href]")
    );
  }

  function moveInQueue(step) {
    var links = queueLinks();
    if (!links.length) return false;
    var current = links.indexOf(document.activeElement);
    var next = current < 0 ? (step > 0 ? 0 : links.length - 1) : current + step;
    next = Math.max(0, Math.min(links.length - 1, next));
    links.forEach(function (link) {
      link.closest("tr").classList.remove("is-selected");
    });
    links[next].closest("tr").classList.add("is-selected");
    links[next].focus();
    return true;
  }

  function toggleHelp() {
    var dialog = document.getElementById("shortcuts-help");
    if (!dialog) {
      dialog = document.createElement("dialog");
      dialog.id = "shortcuts-help";
      dialog.className = "shortcuts-help";
      var title = document.createElement("h2");
      title.textContent = "Keyboard shortcuts";
      dialog.appendChild(title);
      var list = document.createElement("dl");
      HELP.forEach(function (entry) {
        var key = document.createElement("dt");
        var kbd = document.createElement("kbd");
        kbd.textContent = entry[0];
        key.appendChild(kbd);
        var what = document.createElement("dd");
        what.textContent = entry[1];
        list.appendChild(key);
        list.appendChild(what);
      });
      dialog.appendChild(list);
      document.body.appendChild(dialog);
    }
    if (dialog.open) dialog.close();
    else dialog.showModal();
    return true;
  }

  function follow(selector) {
    var link = document.querySelector(selector);
    if (!link || !link.href) return false;
    window.location.assign(link.href);
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (event.key === "Escape") {
      hint("");
      if (isTyping(target)) target.blur();
      document.querySelectorAll(".is-armed").forEach(function (button) {
        button.classList.remove("is-armed");
      });
      return;
    }
    if (isTyping(target)) return;
    var handled = false;
    if (event.key === "?") handled = toggleHelp();
    else if (event.key === "/") {
      var search = document.querySelector('#main input[type="search"]');
      if (search) {
        search.focus();
        search.select();
        handled = true;
      }
    } else if (event.key === "j") handled = moveInQueue(1);
    else if (event.key === "k") handled = moveInQueue(-1);
    else if (event.key === "n") handled = follow('[data-shortcut="n"]');
    else if (DECISIONS[event.key]) handled = selectDecision(DECISIONS[event.key]);
    if (handled) event.preventDefault();
  });

  // A page opened through "next" is there to be decided: the comment box gets the focus.
  document.addEventListener("DOMContentLoaded", function () {
    if (new URLSearchParams(window.location.search).has("queue")) {
      var comment = commentBox();
      if (comment) comment.focus();
    }
  });
})();
