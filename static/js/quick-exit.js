// Quick exit: a button, and Shift pressed three times within a few seconds
// (as the GOV.UK "Exit this page" component). Blank the page at once, then
// replace it (no new history entry) with our exit endpoint, which ends the
// session, clears site data and redirects to the organization's neutral site.
(function () {
  "use strict";
  var script = document.currentScript;
  var exitUrl = script.getAttribute("data-exit-url");
  var presses = 0;
  var timer = null;

  function leave(event) {
    if (event) { event.preventDefault(); }
    document.title = "";
    document.documentElement.classList.add("exiting");
    try { window.sessionStorage.clear(); window.localStorage.clear(); } catch (e) { /* storage blocked */ }
    window.location.replace(exitUrl);
  }
  window.shelterchatQuickExit = leave;

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Shift") { return; }
    presses += 1;
    clearTimeout(timer);
    if (presses >= 3) { presses = 0; leave(); return; }
    timer = setTimeout(function () { presses = 0; }, 5000);
  });

  var button = document.getElementById("quick-exit");
  if (button) { button.addEventListener("click", leave); }
})();
