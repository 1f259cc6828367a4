// Charts of the pages, drawn with uPlot (vendored): a line chart of one or more series,
// each with its own x values (steps or times), aligned by uPlot.join. Drag to zoom,
// double-click to zoom out (uPlot's own).
"use strict";

const PALETTE = ["#2f6fd6", "#c53030", "#2f8f4e", "#b7791f", "#6b46c1", "#0f766e",
                 "#be185d", "#4b5563", "#a16207", "#1e40af"];

// el: the element to draw in. spec: {series: [{label, x: [...], y: [...]}], xLabel,
// yLabel, time (x values are epoch seconds), height}. extra: uPlot options merged in
// (hooks, plugins, scales) for what a page adds, e.g. a threshold band.
function drawChart(el, spec, extra = {}) {
  const data = uPlot.join(spec.series.map((s) => [s.x, s.y]));
  const opts = Object.assign({
    width: Math.max(320, el.clientWidth || 640),
    height: spec.height || 240,
    scales: {x: {time: Boolean(spec.time)}},
    axes: [{label: spec.xLabel || (spec.time ? "" : "step")}, {label: spec.yLabel || ""}],
    series: [{label: spec.xLabel || (spec.time ? "time" : "step")}].concat(
      spec.series.map((s, i) => ({
        label: s.label,
        stroke: PALETTE[i % PALETTE.length],
        width: 1.5,
        spanGaps: true,
        points: {show: s.x.length < 60},
      }))),
  }, extra);
  el.replaceChildren();
  return new uPlot(opts, data, el);
}
