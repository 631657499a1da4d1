/* Questionnaire: show a conditional question only when the answer it depends on is chosen.
 *
 * Without this script every question is shown and each conditional one says, in words, which
 * answer it depends on; the server ignores its answer when the condition is not met. With it,
 * a question whose condition is not met is `hidden` (so screen readers skip it too), and when one
 * appears a polite status message says so. Focus never moves: the resident stays on the answer
 * they just chose and finds the new question next with Tab. The hidden question keeps what was
 * typed in it, in case the resident changes their mind again.
 */
(function () {
  "use strict";

  var form = document.getElementById("questionnaire-form");
  if (!form) {
    return;
  }
  var t = window.gettext || function (text) { return text; };
  var interpolate = window.interpolate || function (fmt, obj) {
    return fmt.replace(/%\(\w+\)s/g, function (match) { return String(obj[match.slice(2, -2)]); });
  };
  var status = document.getElementById("questionnaire-status");
  var conditional = Array.prototype.slice.call(form.querySelectorAll("[data-condition-question]"));

  function isShown(wrapper) {
    return wrapper && !wrapper.hidden;
  }

  function chosenValues(wrapper) {
    var inputs = wrapper.querySelectorAll("input[type=radio], input[type=checkbox]");
    var values = [];
    Array.prototype.forEach.call(inputs, function (input) {
      if (input.checked) {
        values.push(input.value);
      }
    });
    return values;
  }

  function questionTitle(wrapper) {
    var legend = wrapper.querySelector("legend, label.group__legend");
    return legend ? legend.firstChild.textContent.trim() : "";
  }

  // Conditions only name earlier questions, so one pass in document order settles chains.
  function update(announce) {
    var appeared = [];
    conditional.forEach(function (wrapper) {
      var target = document.getElementById(wrapper.getAttribute("data-condition-question"));
      var wanted = wrapper.getAttribute("data-condition-value");
      var show = isShown(target) && chosenValues(target).indexOf(wanted) !== -1;
      if (show && wrapper.hidden) {
        appeared.push(questionTitle(wrapper));
      }
      wrapper.hidden = !show;
    });
    if (announce && status && appeared.length) {
      status.textContent = appeared.length === 1
        ? interpolate(t("A new question appeared below: %(question)s"), { question: appeared[0] }, true)
        : t("New questions appeared below.");
    }
  }

  document.documentElement.classList.add("questionnaire-js");
  // The "answer only if…" sentences are for pages without this script.
  Array.prototype.forEach.call(form.querySelectorAll(".question__condition"), function (note) {
    note.hidden = true;
  });
  update(false);
  form.addEventListener("change", function (event) {
    if (event.target.matches("input[type=radio], input[type=checkbox]")) {
      update(true);
    }
  });

  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  }
})();
