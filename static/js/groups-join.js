// The invite page: a suggested name, clicked, fills the name field.
(function () {
  "use strict";
  var field = document.getElementById("id_display_name");
  if (!field) { return; }
  document.querySelectorAll(".name-suggestion").forEach(function (button) {
    button.addEventListener("click", function () {
      field.value = button.getAttribute("data-name");
      field.focus();
    });
  });
})();
