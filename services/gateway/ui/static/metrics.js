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
    figure.dataset.points = String(series.reduce((n, s) => n + s.x.length, 0));
    drawChart(plot, {series, time: axis === "time", xLabel: axis, yLabel: name});
  } catch (error) {
    plot.textContent = "The chart could not be loaded (" + error.message + ").";
  }
}

function chosenAxis(section) {
  const chosen = section.querySelector("input[name=metric-axis]:checked");
  return chosen ? chosen.value : "step";
}

function followAxis(section) {
  // The figures as they are when drawn: a running run's may grow (followRun).
  const draw = (axis) => section.querySelectorAll("figure.metric-chart")
    .forEach((figure) => drawMetric(figure, axis));
  section.querySelectorAll("input[name=metric-axis]").forEach((input) => {
    input.addEventListener("change", () => input.checked && draw(input.value));
  });
  draw(chosenAxis(section));
}

// "%.6g", near enough: 6 significant digits, no trailing zeros.
const g = (value) => String(Number(value.toPrecision(6)));

function summaryText(m) {
  const step = m.last_step === null || m.last_step === undefined ? "" : ` (step ${m.last_step})`;
  const points = `${m.count} point${m.count === 1 ? "" : "s"}`;
  return `last ${g(m.last)}${step}, min ${g(m.min)}, max ${g(m.max)}, ${points}`;
}

// A chart for a metric the run logged since the page was made, as the page makes them.
function newFigure(section, name, m) {
  const figure = document.createElement("figure");
  figure.className = "metric-chart";
  Object.assign(figure.dataset, {
    metric: name,
    runs: section.dataset.run,
    labels: section.dataset.run.slice(0, 12),
    stepped: m.last_step === null || m.last_step === undefined ? "" : "yes",
  });
  const caption = document.createElement("figcaption");
  const title = document.createElement("strong");
  title.textContent = name;
  const summary = document.createElement("span");
  summary.className = "metric-summary";
  caption.append(title, " ", summary);
  const plot = document.createElement("div");
  plot.className = "plot";
  plot.setAttribute("role", "img");
  plot.setAttribute("aria-label", "chart of " + name);
  figure.append(caption, plot);
  section.querySelector(".no-metrics")?.remove();
  section.insertBefore(figure, section.querySelector("form.compare-with"));
  return figure;
}

// A running run's charts follow it: the gateway says when its metrics changed (at most
// each second, once stored); each chart whose count changed is drawn again, a new metric
// gets its chart. The stream ends with the run.
function followRun(section) {
  const source = new EventSource(section.dataset.live);
  source.addEventListener("changed", (event) => {
    const {metrics} = JSON.parse(event.data);
    for (const [name, m] of Object.entries(metrics)) {
      let figure = Array.from(section.querySelectorAll("figure.metric-chart"))
        .find((f) => f.dataset.metric === name);
      if (figure && figure.dataset.count === String(m.count)) continue;
      figure = figure || newFigure(section, name, m);
      figure.dataset.count = String(m.count);
      figure.querySelector(".metric-summary").textContent = summaryText(m);
      drawMetric(figure, chosenAxis(section));
    }
  });
  source.addEventListener("end", () => source.close());
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-metric-charts]").forEach((section) => {
    followAxis(section);
    if (section.dataset.live) followRun(section);
  });
});
