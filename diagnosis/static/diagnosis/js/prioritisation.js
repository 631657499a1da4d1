/* The prioritisation ballot: says how many points are left as the resident types, and focuses the
   error summary when the server sent one back. The form works without this script; the server
   checks every rule again. Strings come from Django's JavaScript catalogue (loaded before this
   script); they are called by name so makemessages -d djangojs finds them. */
(function () {
  "use strict";
  var form = document.getElementById("ballot-form");
  if (!form) { return; }
  var total = parseInt(form.getAttribute("data-points"), 10) || 0;
  var status = form.querySelector("[data-ballot-left]");
  var inputs = form.querySelectorAll("input.ballot-input");

  function given() {
    var sum = 0;
    for (var i = 0; i < inputs.length; i++) {
      var value = inputs[i].value.trim();
      if (/^[0-9]{1,6}$/.test(value)) { sum += parseInt(value, 10); }
    }
    return sum;
  }

  function update() {
    var left = total - given();
    if (left >= 0) {
      status.textContent = interpolate(ngettext("%(left)s point left of %(total)s.", "%(left)s points left of %(total)s.", left),
        {left: left, total: total}, true);
      status.classList.remove("ballot-left--over");
    } else {
      status.textContent = interpolate(ngettext("%(over)s point too many: please take some away.",
        "%(over)s points too many: please take some away.", -left), {over: -left}, true);
      status.classList.add("ballot-left--over");
    }
  }

  for (var i = 0; i < inputs.length; i++) { inputs[i].addEventListener("input", update); }
  update();

  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
  var saved = document.getElementById("ballot-saved");
  if (saved && !summary) { saved.setAttribute("tabindex", "-1"); saved.focus(); }
}());
