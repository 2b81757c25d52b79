// Live progress for the Evaluations and comparison pages: while a row runs, its status and counts are
// polled from /web/evaluations/progress.json and written in place. Without this script the pages work,
// and a reload shows the same. No dependencies, no build step.
(function () {
  "use strict";
  var POLL_MS = 2000;

  function words(c) {
    var parts = [c.done + " done"];
    if (c.failed) parts.push(c.failed + " failed");
    if (c.running) parts.push(c.running + " running");
    if (c.queued) parts.push(c.queued + " queued");
    return parts.join(", ");
  }

  function update(el, p) {
    var status = el.querySelector("[data-live=status]");
    var bar = el.querySelector("[data-live=bar]");
    var counts = el.querySelector("[data-live=counts]");
    var finished = p.counts.done + p.counts.failed;
    if (status) {
      status.textContent = p.status;
      status.className = "status status-" + p.status;
    }
    if (bar) {
      bar.max = p.counts.total;
      bar.value = finished;
      bar.setAttribute("aria-label", finished + " of " + p.counts.total + " finished");
    }
    if (counts) counts.textContent = words(p.counts);
    el.setAttribute("data-status", p.status);
  }

  function running() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-status=running]"));
  }

  function poll() {
    var rows = running();
    if (!rows.length) return;
    var query = rows.map(function (el) {
      return el.hasAttribute("data-batch")
        ? "batch=" + encodeURIComponent(el.getAttribute("data-batch"))
        : "review=" + encodeURIComponent(el.getAttribute("data-review"));
    });
    fetch("/web/evaluations/progress.json?" + query.join("&"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (found) {
        rows.forEach(function (el) {
          var p = found[el.getAttribute("data-batch") || el.getAttribute("data-review")];
          if (!p) return;
          update(el, p);
          // the comparison page shows its matrix once every review has finished: load it
          if (p.status !== "running" && el.hasAttribute("data-reload-when-done")) window.location.reload();
        });
      })
      .catch(function () {})
      .then(function () { if (running().length) window.setTimeout(poll, POLL_MS); });
  }

  if (running().length) window.setTimeout(poll, POLL_MS);
})();
