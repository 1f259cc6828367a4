// Curves of the artifact previews, drawn with drawChart (charts.js). Previews arrive as
// htmx fragments, each of which may bring this script again: it sets itself up once, then
// draws what each new fragment holds.
"use strict";

(() => {
  if (window.drawCurves) {
    window.drawCurves(document);
    return;
  }
  window.drawCurves = (root) => {
    for (const el of root.querySelectorAll("[data-curve]:not([data-drawn])")) {
      el.dataset.drawn = "yes";
      drawChart(el, JSON.parse(el.dataset.curve));
    }
  };
  htmx.onLoad((el) => window.drawCurves(el));
  window.drawCurves(document);
})();
