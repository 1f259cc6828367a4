// Live parts of the pages, by server-sent events from the gateway (same origin: the login
// cookie goes with them).
"use strict";

function followLogs(pre, search) {
  const source = new EventSource(pre.dataset.stream);
  source.addEventListener("line", (event) => {
    const line = JSON.parse(event.data);
    const span = document.createElement("span");
    span.className = line.stream;  // stdout or stderr, each its own look
    span.textContent = line.line + "\n";
    pre.appendChild(span);
    if (search) search.show(span);
  });
  source.addEventListener("end", () => {
    source.close();
    // A run that ended since the page was made: show its final state, reason and history.
    if (!pre.dataset.ended) window.location.reload();
  });
}

// The log's search box: only the lines holding its text (any case) are shown, live ones too.
function logSearch(pre, input, count) {
  const wanted = () => input.value.trim().toLowerCase();
  const show = (span) => {
    span.hidden = wanted() !== "" && !span.textContent.toLowerCase().includes(wanted());
  };
  const showAll = () => {
    const lines = Array.from(pre.children);
    lines.forEach(show);
    const shown = lines.filter((span) => !span.hidden).length;
    count.textContent = wanted() ? `${shown} of ${lines.length} lines` : "";
  };
  input.addEventListener("input", showAll);
  return {show: (span) => { show(span); if (wanted()) showAll(); }};
}

// A refresh `ask` (a promise) done one at a time; a change seen meanwhile asks for one more
// after it (the answer in flight may predate that change). Live pages share it.
function oneAtATime(ask) {
  let waiting = false;
  let again = false;
  const refresh = () => {
    if (waiting) {
      again = true;
      return;
    }
    waiting = true;
    ask().finally(() => {
      waiting = false;
      if (again) {
        again = false;
        refresh();
      }
    });
  };
  return refresh;
}

function followRuns(table) {
  // Any run's change refreshes the table as filtered (htmx swaps it in place).
  const source = new EventSource("/v1/events/stream?subject=run.>");
  const url = "/runs?fragment=true&" + table.dataset.liveRuns;
  const refresh = oneAtATime(() => htmx.ajax("GET", url, {target: table, swap: "innerHTML"}));
  // On each (re)connection too, once the stream is subscribed ("ready"): what changed
  // between the page's making and then was never sent.
  source.addEventListener("ready", refresh);
  for (const state of ["pending", "dispatched", "running", "completed", "failed", "aborted"]) {
    source.addEventListener("run." + state, refresh);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const logs = document.getElementById("logs");
  const search = document.getElementById("log-search");
  if (logs) {
    followLogs(logs, search && logSearch(logs, search, document.getElementById("log-matches")));
  }
  const runs = document.querySelector("[data-live-runs]");
  if (runs) followRuns(runs);
});
