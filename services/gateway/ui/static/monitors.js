// A monitor's chart: the points it saw (drawChart), with the region where its rule is
// breached shaded, the threshold and the re-arm line drawn, and each crossing marked.
"use strict";

function bandPlugin(band, crossings) {
  const breach = "rgba(197, 48, 48, 0.10)";
  const line = (u, y, dash, colour) => {
    const ctx = u.ctx;
    const top = u.valToPos(y, "y", true);
    ctx.save();
    ctx.strokeStyle = colour;
    ctx.lineWidth = 1.5;
    ctx.setLineDash(dash);
    ctx.beginPath();
    ctx.moveTo(u.bbox.left, top);
    ctx.lineTo(u.bbox.left + u.bbox.width, top);
    ctx.stroke();
    ctx.restore();
    return top;
  };
  const shade = (u) => {
    const ctx = u.ctx;
    const top = u.valToPos(band.threshold, "y", true);
    const {left, width} = u.bbox;
    const from = band.direction === "below" ? top : u.bbox.top;
    const to = band.direction === "below" ? u.bbox.top + u.bbox.height : top;
    ctx.save();
    ctx.fillStyle = breach;
    ctx.fillRect(left, Math.min(from, to), width, Math.abs(to - from));
    ctx.restore();
    line(u, band.threshold, [], "#c53030");
    if (band.rearm !== band.threshold) line(u, band.rearm, [6, 4], "#b7791f");
  };
  const mark = (u) => {
    const ctx = u.ctx;
    ctx.save();
    for (const c of crossings) {
      const x = u.valToPos(c.x, "x", true);
      const y = u.valToPos(c.y, "y", true);
      ctx.strokeStyle = c.kind === "recovered" ? "#2f8f4e" : "#c53030";
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(x, y, 7, 0, 2 * Math.PI);
      ctx.stroke();
      ctx.fillStyle = ctx.strokeStyle;
      ctx.font = "12px system-ui, sans-serif";
      ctx.fillText(c.kind, x + 10, y - 8);
    }
    ctx.restore();
  };
  return {hooks: {drawClear: [shade], draw: [mark]}};
}

function drawMonitor(el, spec) {
  const band = spec.band;
  const values = spec.series[0].y.concat([band.threshold, band.rearm]);
  const low = Math.min(...values);
  const high = Math.max(...values);
  const pad = (high - low) * 0.15 || Math.abs(high) * 0.1 || 1;
  // One point (or several at one time) would make uPlot span years: a minute either side.
  const xs = spec.series[0].x;
  const first = Math.min(...xs);
  const last = Math.max(...xs);
  const x = first === last ? {time: true, range: () => [first - 60, last + 60]} : {time: true};
  drawChart(el, spec, {
    scales: {x, y: {range: () => [low - pad, high + pad]}},
    plugins: [bandPlugin(band, spec.crossings)],
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const el = document.getElementById("monitor-chart");
  if (el) drawMonitor(el, JSON.parse(document.getElementById("monitor-data").textContent));
});
