"""Lineage trees walked from a version, one direction at a time."""

import pytest

from services.registry.domain.lineage import Node, frontier, parse_node, tree

DOWN = {
    "dataset:raw@1": ["run:r1"],
    "run:r1": ["dataset:clean@1", "model:clf@1"],
    "dataset:clean@1": ["run:r2"],
    "run:r2": ["model:clf@2"],
    "model:clf@1": [],
    "model:clf@2": [],
}


def shape(t: object) -> object:
    node = t.node  # type: ignore[attr-defined]
    children = [shape(c) for c in t.children]  # type: ignore[attr-defined]
    flag = "…" if t.truncated else "↺" if t.repeated else ""  # type: ignore[attr-defined]
    return (node.key + flag, children) if children else node.key + flag


def test_a_tree_follows_edges_to_the_depth_asked_for() -> None:
    root = Node("dataset", "raw", 1)
    assert shape(tree(root, DOWN, 5)) == (
        "dataset:raw@1",
        [("run:r1", [("dataset:clean@1", [("run:r2", ["model:clf@2"])]), "model:clf@1"])],
    )
    assert shape(tree(root, DOWN, 2)) == (
        "dataset:raw@1",
        [("run:r1", ["dataset:clean@1…", "model:clf@1"])],
    )


def test_a_cycle_is_shown_once_and_not_followed() -> None:
    looped = {"dataset:a@1": ["run:x"], "run:x": ["dataset:a@1"]}
    assert shape(tree(Node("dataset", "a", 1), looped, 5)) == (
        "dataset:a@1",
        [("run:x", ["dataset:a@1↺"])],
    )


def test_the_frontier_is_what_has_not_been_loaded_yet() -> None:
    assert frontier({"a": ["b", "c"], "b": []}, ["a"]) == ["c"]


def test_node_keys_round_trip() -> None:
    for node in (Node("dataset", "iris", 3), Node("model", "m.v2", 1), Node("run", "abc")):
        assert parse_node(node.key) == node
    with pytest.raises(ValueError, match="not a lineage node"):
        parse_node("table:x@1")
