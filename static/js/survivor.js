// What every survivor page runs, so that the page does not betray her.
//
// Quick exit: the button, or Shift pressed three times within five seconds,
// as the GOV.UK "Exit this page" component counts them: only a Shift pressed
// and released on its own (not held, not used for a capital), and any other
// key starts the count again, so typing never exits. The count is shown and
// announced. Leaving blanks the page at once, then replaces it (no new
// history entry) with our exit endpoint, which ends the session, clears site
// data and redirects to the organization's neutral site.
//
// One history entry: links are followed with location.replace, and forms
// are sent with fetch and their answer shown in place of this page, under
// the answer's address (history.replaceState). A whole journey thus leaves
// one entry, and Back never walks through its steps. Without JavaScript,
// links and forms work as usual.
//
// Asking once: a button with data-confirm reveals, in its place, the inline
// question it names (which names it back with data-question-of) instead of
// acting; the question's data-keep button puts it back. No dialog: nothing
// traps focus.
(function () {
  "use strict";
  var script = document.currentScript;
  var exitUrl = script.getAttribute("data-exit-url");
  var counter = document.getElementById("quick-exit-count");
  var PRESSES_TO_EXIT = 3;
  var presses = 0;
  var timer = null;
  var shiftAlone = false;

  function leave(event) {
    if (event) { event.preventDefault(); }
    document.title = "";
    document.documentElement.classList.add("exiting");
    try { window.sessionStorage.clear(); window.localStorage.clear(); } catch (e) { /* storage blocked */ }
    window.location.replace(exitUrl);
  }
  window.shelterchatQuickExit = leave;

  function count(value) {
    presses = value;
    clearTimeout(timer);
    counter.textContent = value ? counter.getAttribute("data-text").replace("{count}", value) : "";
    if (value) { timer = setTimeout(function () { count(0); }, 5000); }
  }

  // Capture, so that no handler on the page can hide a key from the count.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Shift") { shiftAlone = !event.repeat; return; }
    shiftAlone = false;
    if (presses) { count(0); }
  }, true);
  document.addEventListener("keyup", function (event) {
    if (event.key !== "Shift" || !shiftAlone) { return; }
    shiftAlone = false;
    if (presses + 1 >= PRESSES_TO_EXIT) { count(0); leave(); return; }
    count(presses + 1);
  }, true);

  var button = document.getElementById("quick-exit");
  if (button) { button.addEventListener("click", leave); }

  function show(response) {
    return response.text().then(function (html) {
      window.history.replaceState(null, "", response.url);
      document.open();
      document.write(html);
      document.close();
    });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[href]");
    if (!link || event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey ||
        event.shiftKey || event.altKey || link.target || !/^https?:$/.test(link.protocol)) { return; }
    event.preventDefault();
    window.location.replace(link.href);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || form.method !== "post") { return; }
    event.preventDefault();
    var body = new URLSearchParams(new FormData(form, event.submitter));
    window.fetch(form.action, { method: "POST", body: body, credentials: "same-origin" })
      .then(show)
      .catch(function () { form.submit(); });
  });

  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-confirm]");
    var keep = event.target.closest("[data-keep]");
    if (opener) {
      var question = document.getElementById(opener.getAttribute("data-confirm"));
      opener.hidden = true;
      question.hidden = false;
      question.focus();
    } else if (keep) {
      var panel = keep.closest("[data-question-of]");
      panel.hidden = true;
      var original = document.getElementById(panel.getAttribute("data-question-of"));
      original.hidden = false;
      original.focus();
    }
  });
})();
