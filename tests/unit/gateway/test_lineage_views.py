"""The lineage graph the pages draw, from the registry's upstream and downstream trees:
every edge points the way the data flowed, nodes are shared, truncated ones expandable."""

import pytest

from services.gateway.ui.lineage_views import BadNode, checked, graph
from shared.registry_api import LineageNode, LineageView


def node(kind: str, ref: str, *children: LineageNode, truncated: bool = False) -> LineageNode:
    return LineageNode(kind=kind, ref=ref, children=list(children), truncated=truncated)


def quickstart_model() -> LineageView:
    """iris@2 → prepare → iris-train@2 → train → model v2 → evaluate, from the model."""
    prepare = node("run", "abc123456789-prepare", node("dataset", "iris@2"))
    upstream = node("run", "abc123456789-train", node("dataset", "iris-train@2", prepare))
    return LineageView(
        root=node("model", "clf@2"),
        upstream=[upstream],
        downstream=[node("run", "abc123456789-evaluate", truncated=True)],
    )


def test_edges_point_the_way_the_data_flowed_upstream_and_downstream() -> None:
    drawn = graph(quickstart_model())
    edges = {(e["from"], e["to"]) for e in drawn["edges"]}
    assert edges == {
        ("dataset:iris@2", "run:abc123456789-prepare"),
        ("run:abc123456789-prepare", "dataset:iris-train@2"),
        ("dataset:iris-train@2", "run:abc123456789-train"),
        ("run:abc123456789-train", "model:clf@2"),
        ("model:clf@2", "run:abc123456789-evaluate"),
    }
    assert drawn["root"] == "model:clf@2"


def test_nodes_link_to_their_pages_and_say_what_they_are() -> None:
    nodes = {n["id"]: n for n in graph(quickstart_model())["nodes"]}
    assert nodes["model:clf@2"]["href"] == "/models/clf/versions/2"
    assert nodes["model:clf@2"]["cls"] == "model root"
    assert nodes["dataset:iris-train@2"]["href"] == "/datasets/iris-train/versions/2"
    assert nodes["run:abc123456789-train"]["href"] == "/runs/abc123456789-train"
    assert nodes["run:abc123456789-train"]["label"] == "run abc12345-train"


def test_a_truncated_node_can_be_expanded_unless_another_path_followed_it() -> None:
    shared = node("dataset", "d@1", truncated=True)
    followed = node("dataset", "d@1", node("run", "r0"))
    view = LineageView(
        root=node("run", "r1"),
        upstream=[shared, node("dataset", "e@1", truncated=True)],
        downstream=[node("model", "m@1", followed)],
    )
    nodes = {n["id"]: n for n in graph(view)["nodes"]}
    assert not nodes["dataset:d@1"]["more"]
    assert nodes["dataset:e@1"]["more"] and nodes["dataset:e@1"]["cls"] == "dataset"
    assert len(nodes) == 5  # d@1 is one node, reached two ways


def test_a_lone_version_is_one_node_and_no_edge() -> None:
    drawn = graph(LineageView(root=node("dataset", "iris@1"), upstream=[], downstream=[]))
    assert [n["id"] for n in drawn["nodes"]] == ["dataset:iris@1"]
    assert drawn["edges"] == []


@pytest.mark.parametrize("given", ["dataset:iris@2", "model:clf@production", "run:abc-train"])
def test_a_lineage_request_names_a_dataset_model_or_run(given: str) -> None:
    assert checked(given, 2) == given


@pytest.mark.parametrize("given", ["", "iris@2", "dataset:iris", "job:x", "run:", "run:a b"])
def test_anything_else_is_refused_saying_what_a_node_is(given: str) -> None:
    with pytest.raises(BadNode, match="is not a lineage node: give dataset:NAME@VERSION"):
        checked(given, 2)


def test_the_depth_is_bounded() -> None:
    with pytest.raises(BadNode, match="depth 9 is out of range: 1 to 5"):
        checked("run:x", 9)


def counted(
    kind: str, ref: str, edges_in: int, edges_out: int, *children: LineageNode
) -> LineageNode:
    return LineageNode(
        kind=kind, ref=ref, children=list(children), edges_in=edges_in, edges_out=edges_out
    )


def test_with_the_registry_s_edge_counts_a_node_with_any_edge_not_shown_has_more() -> None:
    """iris-train@2 also feeds the evaluation; the evaluation also reads iris-test@2."""
    data = counted("dataset", "iris-train@2", 1, 2)
    view = LineageView(
        root=counted("model", "clf@2", 1, 1),
        upstream=[counted("run", "train", 1, 1, data)],
        downstream=[counted("run", "evaluate", 2, 0)],
    )
    nodes = {n["id"]: n["more"] for n in graph(view)["nodes"]}
    assert nodes == {
        "model:clf@2": False,
        "run:train": False,
        "dataset:iris-train@2": True,  # its use by the evaluation is not drawn
        "run:evaluate": True,  # nor its other input
    }
