// Graphs of the pages (a pipeline's steps, lineage), laid out by dagre (vendored) and drawn
// as SVG: each node a box with its label, a link where it has one, and a class for its look
// (a run state, a kind of node); edges as arrows.
"use strict";

const SVG = "http://www.w3.org/2000/svg";

function svgNode(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

// el: the element to draw in. graph: {nodes: [{id, label, href, cls, title}],
// edges: [{from, to}], direction: "LR" | "TB"}. Returns the SVG element; each node's group
// carries data-node="<id>" so a page can restyle it live; each edge data-from and data-to.
function drawGraph(el, graph) {
  const g = new dagre.graphlib.Graph();
  g.setGraph({rankdir: graph.direction || "LR", nodesep: 24, ranksep: 48, marginx: 8, marginy: 8});
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes) {
    const width = Math.max(80, 8 * String(node.label).length + 24);
    g.setNode(node.id, {width, height: 36, node});
  }
  for (const edge of graph.edges) g.setEdge(edge.from, edge.to);
  dagre.layout(g);

  const size = g.graph();
  const svg = svgNode("svg", {
    width: size.width, height: size.height, viewBox: `0 0 ${size.width} ${size.height}`,
    role: "img", class: "graph",
  });
  const defs = svgNode("defs", {});
  const marker = svgNode("marker", {
    id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 8, markerHeight: 8,
    orient: "auto-start-reverse",
  });
  marker.appendChild(svgNode("path", {d: "M 0 0 L 10 5 L 0 10 z", class: "arrow"}));
  defs.appendChild(marker);
  svg.appendChild(defs);
  for (const e of g.edges()) {
    const points = g.edge(e).points.map((p) => `${p.x},${p.y}`).join(" ");
    const ends = {"data-from": e.v, "data-to": e.w};
    svg.appendChild(svgNode("polyline", {points, class: "edge", "marker-end": "url(#arrow)", ...ends}));
  }
  for (const id of g.nodes()) {
    const {x, y, width, height, node} = g.node(id);
    const group = svgNode("g", {class: `node ${node.cls || ""}`, "data-node": id});
    const box = svgNode("rect", {x: x - width / 2, y: y - height / 2, width, height, rx: 5});
    const text = svgNode("text", {x, y: y + 4, "text-anchor": "middle"});
    text.textContent = node.label;
    if (node.title) {
      const title = svgNode("title", {});
      title.textContent = node.title;
      group.appendChild(title);
    }
    group.append(box, text);
    if (node.href) {
      const link = svgNode("a", {href: node.href});
      link.appendChild(group);
      svg.appendChild(link);
    } else {
      svg.appendChild(group);
    }
  }
  el.replaceChildren(svg);
  return svg;
}
