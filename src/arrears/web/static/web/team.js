// The team list's "select all on this page" box (the list works without it).
(function () {
  "use strict";
  var all = document.getElementById("select-all");
  if (!all) { return; }
  all.addEventListener("change", function () {
    document.querySelectorAll("#team-cases input[name=cases]").forEach(function (box) {
      box.checked = all.checked;
    });
  });
})();
