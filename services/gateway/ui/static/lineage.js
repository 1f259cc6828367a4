// The lineage graph of a dataset or model version: drawn from the JSON the page holds, and
// grown by "expand" buttons that fetch two more hops around a node from /lineage.
"use strict";

function lineageGraph(el, graph) {
  const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
  const edges = new Map(graph.edges.map((e) => [`${e.from} ${e.to}`, e]));
  const more = el.nextElementSibling;

  function draw() {
    const shown = [...nodes.values()].map((n) => (
      n.more ? {...n, label: `${n.label} +`, cls: `${n.cls} more`} : n
    ));
    drawGraph(el, {nodes: shown, edges: [...edges.values()], direction: "LR"});
    const list = document.createElement("ul");
    for (const node of nodes.values()) {
      if (!node.more) continue;
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.expand = node.id;
      button.textContent = `Expand ${node.id}`;
      button.addEventListener("click", () => expand(node.id, button));
      const item = document.createElement("li");
      item.appendChild(button);
      list.appendChild(item);
    }
    more.replaceChildren(...(list.children.length ? [list] : []));
    listEdges();
  }

  // The same graph as links, for whoever does not see the drawing.
  function listEdges() {
    const items = [...edges.values()].map((edge) => {
      const item = document.createElement("li");
      item.dataset.from = edge.from;
      item.dataset.to = edge.to;
      item.append(link(edge.from), " → ", link(edge.to));
      return item;
    });
    if (items.length) el.closest("section").querySelector(".lineage-list ul").replaceChildren(...items);
  }

  function link(id) {
    const a = document.createElement("a");
    a.href = nodes.get(id).href;
    a.textContent = id;
    return a;
  }

  async function expand(id, button) {
    button.disabled = true;
    const answer = await fetch(`/lineage?node=${encodeURIComponent(id)}&depth=2`);
    if (!answer.ok) {
      button.disabled = false;
      const problem = document.createElement("p");
      problem.className = "problem";
      const said = await answer.json().catch(() => ({}));
      problem.textContent = said.error || said.detail || `${answer.status} ${answer.statusText}`;
      more.appendChild(problem);
      return;
    }
    const found = await answer.json();
    for (const node of found.nodes) {
      const known = nodes.get(node.id);
      // Shown as truncated before but followed now: its neighbours are here.
      if (known) known.more = known.more && node.more;
      else nodes.set(node.id, node);
    }
    nodes.get(id).more = false;
    for (const edge of found.edges) edges.set(`${edge.from} ${edge.to}`, edge);
    for (const node of nodes.values()) node.more = hasMore(node);
    draw();
  }

  // As lineage_views.more: edges the registry counts that the graph does not show yet.
  function hasMore(node) {
    if (node.edges_in == null || node.edges_out == null) return node.more;
    let into = 0;
    let out = 0;
    for (const edge of edges.values()) {
      if (edge.to === node.id) into += 1;
      if (edge.from === node.id) out += 1;
    }
    return into < node.edges_in || out < node.edges_out;
  }

  if (nodes.size) draw();
}

document.addEventListener("DOMContentLoaded", () => {
  const el = document.querySelector("[data-lineage]");
  if (el) lineageGraph(el, JSON.parse(document.getElementById(el.dataset.lineage).textContent));
});
