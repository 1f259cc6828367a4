// The trigger and monitor pages kept live: their live part is asked again as a fragment
// (htmx: a login that ended sends the whole page to the login page) when what it shows
// changed, as the gateway's event streams tell.
"use strict";

// The box's fragment asked again (oneAtATime: ui.js), then `after` it is swapped in.
function refresher(box, after) {
  return oneAtATime(() =>
    htmx.ajax("GET", box.dataset.fragment, {target: box, swap: "innerHTML"}).then(() => {
      after();
      box.dataset.refreshed = String(Number(box.dataset.refreshed || 0) + 1);
    }));
}

const RUN_STATES = ["pending", "dispatched", "running", "completed", "failed", "aborted"];

// A trigger's history: a run it requested is a new firing (asked again); a state change of
// a run it shows is written in its row as the event says.
function followTrigger(box) {
  const name = box.dataset.liveTrigger;
  const refresh = refresher(box, () => {});
  const source = new EventSource("/v1/events/stream?subject=run.>");
  // On each (re)connection too, once subscribed: what changed before then was never sent.
  source.addEventListener("ready", refresh);
  source.addEventListener("run.requested", (event) => {
    if (JSON.parse(event.data).data?.cause?.trigger === name) refresh();
  });
  for (const state of RUN_STATES) {
    source.addEventListener("run." + state, (event) => {
      const runId = JSON.parse(event.data).data?.run_id;
      for (const cell of box.querySelectorAll(".run-state[data-run]")) {
        if (cell.dataset.run === runId) cell.textContent = state;
      }
    });
  }
}

// A monitor's chart, crossings and runs: asked again each time the gateway says they
// changed (a point seen, a crossing, a run it caused or that run's state).
function followMonitor(box) {
  const redraw = () => {
    const el = box.querySelector("#monitor-chart");
    const data = box.querySelector("#monitor-data");
    if (el && data) drawMonitor(el, JSON.parse(data.textContent));
  };
  const refresh = refresher(box, redraw);
  new EventSource(box.dataset.live).addEventListener("changed", refresh);
}

document.addEventListener("DOMContentLoaded", () => {
  const trigger = document.querySelector("[data-live-trigger]");
  if (trigger) followTrigger(trigger);
  const monitor = document.getElementById("monitor-live");
  if (monitor) followMonitor(monitor);
});
