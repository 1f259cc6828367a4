"""The lineage graph the pages draw: the registry's upstream and downstream trees flattened
into nodes and edges (data flows along each edge: input → run → output). Pure: no I/O."""

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from shared.registry_api import LineageNode, LineageView

NODE = re.compile(r"^(dataset|model):([^\s@:/]+)@([^\s@:/]+)$|^run:([^\s@:/]+)$")
MAX_DEPTH = 5


class BadNode(ValueError):
    """A lineage node the page cannot have asked for."""


def node_id(kind: str, ref: str) -> str:
    return f"{kind}:{ref}"


def checked(node: str, depth: int) -> str:
    """The node of a lineage request, refused with what is wrong if it is not one."""
    if not NODE.match(node):
        raise BadNode(
            f"node {node!r} is not a lineage node: give dataset:NAME@VERSION, "
            "model:NAME@VERSION or run:ID"
        )
    if not 1 <= depth <= MAX_DEPTH:
        raise BadNode(f"depth {depth} is out of range: 1 to {MAX_DEPTH}")
    return node


def graph(view: LineageView) -> dict[str, Any]:
    """{nodes, edges} for drawGraph; a node with `more` has neighbours beyond the depth (the
    page marks it, and offers to expand it, until it has)."""
    nodes: dict[str, dict[str, Any]] = {}
    edges: dict[tuple[str, str], dict[str, str]] = {}
    root = _add(nodes, view.root)
    for upstream, trees in ((True, view.upstream), (False, view.downstream)):
        for tree in trees:
            _walk(nodes, edges, root, tree, upstream=upstream)
    nodes[root]["cls"] += " root"
    for node in nodes.values():
        node["more"] = more(node, edges.values())
    return {"root": root, "nodes": list(nodes.values()), "edges": list(edges.values())}


def more(node: dict[str, Any], edges: Iterable[dict[str, str]]) -> bool:
    """Whether a node has edges the graph does not show (the page's lineage.js says the same
    after each expand). Without counts from the registry: whether a tree was cut at it."""
    if node["edges_in"] is None or node["edges_out"] is None:
        return bool(node["more"])
    shown = [e for e in edges if node["id"] in (e["from"], e["to"])]
    into = sum(e["to"] == node["id"] for e in shown)
    return into < node["edges_in"] or len(shown) - into < node["edges_out"]


def _walk(
    nodes: dict[str, dict[str, Any]],
    edges: dict[tuple[str, str], dict[str, str]],
    near: str,
    tree: LineageNode,
    *,
    upstream: bool,
) -> None:
    far = _add(nodes, tree)
    source, target = (far, near) if upstream else (near, far)
    edges[(source, target)] = {"from": source, "to": target}
    for child in tree.children:
        _walk(nodes, edges, far, child, upstream=upstream)


def _add(nodes: dict[str, dict[str, Any]], tree: LineageNode) -> str:
    key = node_id(tree.kind, tree.ref)
    seen = nodes.get(key)
    if seen is None:
        nodes[key] = seen = _node(tree)
    # Shown truncated on one path but followed on another: its neighbours are here.
    seen["more"] = seen["more"] and tree.truncated
    return key


def _node(tree: LineageNode) -> dict[str, Any]:
    key = node_id(tree.kind, tree.ref)
    return {
        "id": key,
        "kind": tree.kind,
        "label": label(tree),
        "href": href(tree.kind, tree.ref),
        "cls": tree.kind,
        "title": f"{key} {tree.label}".strip(),
        "more": tree.truncated,
        "edges_in": tree.edges_in,
        "edges_out": tree.edges_out,
    }


def label(tree: LineageNode) -> str:
    if tree.kind != "run":
        return tree.ref
    head, dash, step = tree.ref.partition("-")
    return f"run {head[:8]}{dash}{step}"


def href(kind: str, ref: str) -> str:
    if kind == "run":
        return f"/runs/{quote(ref)}"
    name, _, version = ref.rpartition("@")
    area = "models" if kind == "model" else "datasets"
    return f"/{area}/{quote(name)}/versions/{quote(version)}"
