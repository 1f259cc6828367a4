// A pipeline's steps as a graph (static/graphs.js), and on a pipeline run's page kept live:
// any change of the run or of one of its step runs re-fetches the steps' fragment.
"use strict";

function drawDags(root) {
  for (const el of root.querySelectorAll(".dag[data-graph]")) {
    drawGraph(el, JSON.parse(el.dataset.graph));
  }
}

function followSteps(section) {
  const run = section.dataset.pipelineRun;
  // A step's run id is the pipeline run's id, a dash and the step's name.
  const ours = (id) => id === run || (typeof id === "string" && id.startsWith(run + "-"));
  // One fetch at a time; a change seen meanwhile asks for one more after it (the answer in
  // flight may predate that change).
  let waiting = false;
  let again = false;
  let loaded = false;
  const refresh = async () => {
    if (waiting) {
      again = true;
      return;
    }
    waiting = true;
    section.setAttribute("aria-busy", "true");
    try {
      const answer = await fetch(section.dataset.steps, {
        headers: {"HX-Request": "true", "HX-Current-URL": window.location.href},
      });
      const away = answer.headers.get("HX-Redirect");  // the login ended: the whole page goes
      if (away) {
        window.location.href = away;
        return;
      }
      if (answer.ok) {
        section.innerHTML = await answer.text();
        drawDags(section);
        loaded = true;
      }
    } finally {
      waiting = false;
      if (again) {
        again = false;
        refresh();
      } else {
        section.setAttribute("aria-busy", "false");
      }
    }
  };
  const source = new EventSource("/v1/events/stream?subject=run.>");
  // The steps are fetched once the stream is subscribed ("ready"), and again on each
  // reconnection: a change before then was never sent. Without a stream, once.
  source.addEventListener("ready", refresh);
  source.addEventListener("error", () => loaded || refresh());
  const changed = (event) => {
    if (ours(JSON.parse(event.data).data?.run_id)) refresh();
  };
  for (const state of ["pending", "dispatched", "running", "completed", "failed", "aborted"]) {
    source.addEventListener("run." + state, changed);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  drawDags(document);
  const steps = document.querySelector("[data-pipeline-run]");
  if (steps) followSteps(steps);
});
