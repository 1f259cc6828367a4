// Metric charts: each figure.metric-chart of a [data-metric-charts] section is drawn from
// the thinned series of each of its runs (one line a run; the server keeps the shape of a
// long series in at most POINTS points), by step or by time as the section's radio
// buttons say. Zoom is uPlot's: drag across a chart, double-click to zoom out.
"use strict";

const POINTS = 1000;

function seriesUrl(runId, name, axis) {
  return "/v1/runs/" + encodeURIComponent(runId) + "/metrics/" + encodeURIComponent(name) +
    "/series?points=" + POINTS + "&x=" + axis;
}

async function fetchSeries(runId, name, axis) {
  const answer = await fetch(seriesUrl(runId, name, axis), {credentials: "same-origin"});
  if (!answer.ok) throw new Error("series of " + name + ": HTTP " + answer.status);
  return answer.json();
}

async function drawMetric(figure, wanted) {
  const name = figure.dataset.metric;
  // A metric whose points have no steps can only be drawn by time.
  const axis = figure.dataset.stepped ? wanted : "time";
  const runs = figure.dataset.runs.split(",").filter(Boolean);
  const labels = figure.dataset.labels.split(",");
  const plot = figure.querySelector(".plot");
  const note = figure.querySelector(".axis-note") || figure.appendChild(document.createElement("p"));
  note.className = "axis-note";
  note.textContent = axis === wanted ? "" : "No steps were logged: drawn by time.";
  const drawing = (figure.drawing || 0) + 1;
  figure.drawing = drawing;
  try {
    const answers = await Promise.all(runs.map((id) => fetchSeries(id, name, axis)));
    if (figure.drawing !== drawing) return;  // the axis changed meanwhile: a newer draw
    const series = answers.map((answer, i) => ({
      label: labels[i] || runs[i],
      x: answer.points.map((p) => axis === "time" ? Date.parse(p.at) / 1000 : p.step),
      y: answer.points.map((p) => p.value),
    }));
    figure.dataset.drawn = axis;
    drawChart(plot, {series, time: axis === "time", xLabel: axis, yLabel: name});
  } catch (error) {
    plot.textContent = "The chart could not be loaded (" + error.message + ").";
  }
}

function followAxis(section) {
  const figures = section.querySelectorAll("figure.metric-chart");
  const draw = (axis) => figures.forEach((figure) => drawMetric(figure, axis));
  section.querySelectorAll("input[name=metric-axis]").forEach((input) => {
    input.addEventListener("change", () => input.checked && draw(input.value));
  });
  const chosen = section.querySelector("input[name=metric-axis]:checked");
  draw(chosen ? chosen.value : "step");
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-metric-charts]").forEach(followAxis);
});
