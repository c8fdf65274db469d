// What every survivor page runs so that it does not betray her (README.md,
// "Quick exit" and "One history entry"): the quick exit, links and forms
// that replace the page's history entry, and inline two-step confirmations.
(function () {
  "use strict";
  // The header's button: its address (with the page's language) is where the exit goes.
  var exit = document.getElementById("quick-exit");
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
    window.location.replace(exit.href);
  }
  window.shelterchatQuickExit = leave;

  function count(value) {
    presses = value;
    clearTimeout(timer);
    counter.textContent = value ? counter.getAttribute("data-text").replace("{count}", value) : "";
    if (value) { timer = setTimeout(function () { count(0); }, 5000); }
  }

  // Only a lone Shift counts, as in GOV.UK's "Exit this page"; capture, so no
  // handler on the page can hide a key from the count.
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

  exit.addEventListener("click", leave);

  // A journey keeps one history entry: links replace the page, and a form's
  // answer is shown in place of it, under the answer's address.
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
    // A form step's language buttons post it to the other language's address.
    var to = event.submitter && event.submitter.getAttribute("formaction");
    window.fetch(to || form.action, { method: "POST", body: body, credentials: "same-origin" })
      .then(show)
      .catch(function () { form.submit(); });
  });

  // Asking once: data-confirm names the question shown in the button's place,
  // whose data-keep button puts it back. No dialog, so nothing traps focus.
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
