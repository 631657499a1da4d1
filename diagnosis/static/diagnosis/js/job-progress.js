/* The progress of a background job (a response export, a diagnosis run), kept up to date.
 *
 * The page works without JavaScript (it says where the job stands and offers a refresh link);
 * with it, this polls the job's JSON every few seconds while it waits or works and updates the
 * <progress> bar, the sentence under it, the Cancel form and the log, then shows what the
 * finished job offers. The end is announced once to screen readers: a message at every poll
 * would drown them.
 *
 * Markup: a [data-job-progress-url] element with data-job-status (the status now),
 * data-job-active (the statuses that mean "still going", space separated) and optionally
 * data-job-poll (milliseconds), holding a <progress> and [data-job-text], [data-job-announce],
 * [data-job-working], [data-job-ready], [data-job-failed], [data-job-cancel] and
 * [data-job-result] (a link whose href becomes the JSON's result_url); [data-job-log] anywhere on
 * the page is refilled from the JSON's log lines.
 */
(function () {
    "use strict";
    var section = document.querySelector("[data-job-progress-url]");
    if (!section || !window.fetch) { return; }
    var active = (section.getAttribute("data-job-active") || "").split(" ");
    if (active.indexOf(section.getAttribute("data-job-status")) === -1) { return; }
    var progress = section.querySelector("progress");
    var text = section.querySelector("[data-job-text]");
    var announce = section.querySelector("[data-job-announce]");
    var log = document.querySelector("[data-job-log]");
    var timer = null;

    function show(selector, visible) {
        var element = section.querySelector(selector);
        if (element) { element.hidden = !visible; }
    }

    function showLog(lines) {
        log.textContent = "";
        lines.forEach(function (line) {
            var item = document.createElement("li");
            var time = document.createElement("time");
            time.textContent = line.at;
            item.appendChild(time);
            item.appendChild(document.createTextNode(line.text));
            log.appendChild(item);
        });
    }

    function update(data) {
        if (data.total === null) {
            progress.removeAttribute("value");  // not known yet: an indeterminate bar
        } else {
            progress.max = Math.max(data.total, 1);
            progress.value = data.status === "done" ? data.total : data.done;
        }
        progress.textContent = data.percent + " %";
        text.textContent = data.text;
        section.setAttribute("data-job-status", data.status);
        if ("can_cancel" in data) { show("[data-job-cancel]", data.can_cancel); }
        if (log && data.log) { showLog(data.log); }
        if (data.finished) {
            window.clearInterval(timer);
            show("[data-job-working]", false);
            var result = section.querySelector("[data-job-result]");
            if (result && data.result_url) { result.href = data.result_url; }
            show("[data-job-ready]", data.status === "done");
            show("[data-job-failed]", data.status === "failed");
            announce.textContent = data.text;
        }
    }

    function poll() {
        fetch(section.getAttribute("data-job-progress-url"), {
            credentials: "same-origin",
            headers: { "Accept": "application/json" }
        }).then(function (response) {
            return response.ok ? response.json() : null;
        }).then(function (data) {
            if (data) { update(data); }
        }).catch(function () { /* a missed poll is retried at the next tick */ });
    }

    timer = window.setInterval(poll, parseInt(section.getAttribute("data-job-poll"), 10) || 2000);
}());
