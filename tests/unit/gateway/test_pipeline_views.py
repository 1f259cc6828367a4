"""A pipeline's steps as the pages draw them: nodes and edges from the spec, each step's
run state as a class and a word, cached and skipped steps marked, specs' refs checked."""

from datetime import UTC, datetime

from services.gateway.ui.pipeline_views import (
    edges,
    list_offset,
    run_graph,
    spec_graph,
    spec_ref,
    state_class,
    state_word,
    step_rows,
)
from shared.queries import StepView
from shared.registry_api import PinnedComponent, PipelineView
from shared.specs import PipelineSpec

SPEC = PipelineSpec.model_validate(
    {
        "name": "iris-train",
        "steps": {
            "prepare": {"component": "prepare", "inputs": {"raw": "{{ inputs.data }}"}},
            "train": {
                "component": "train@2",
                "inputs": {"train": "{{ steps.prepare.outputs.train }}"},
            },
            "evaluate": {
                "component": "evaluate",
                "inputs": {"model": "{{ steps.train.outputs.model }}"},
                "after": ["prepare"],
            },
        },
    }
)


def step(name: str, state: str, substate: str | None = None, reason: str = "") -> StepView:
    return StepView.model_validate(
        {
            "step": name,
            "run_id": f"p1-{name}",
            "state": state,
            "substate": substate,
            "reason": reason,
        }
    )


def test_edges_run_from_each_upstream_step_read_or_waited_for() -> None:
    assert edges(SPEC) == [
        {"from": "prepare", "to": "train"},
        {"from": "prepare", "to": "evaluate"},
        {"from": "train", "to": "evaluate"},
    ]


def test_a_run_graph_has_a_node_per_step_with_its_runs_state_word_class_and_link() -> None:
    graph = run_graph(SPEC, [step("prepare", "completed"), step("train", "running", reason="r")])

    nodes = {node["id"]: node for node in graph["nodes"]}
    assert list(nodes) == ["prepare", "train", "evaluate"]
    assert nodes["train"] == {
        "id": "train",
        "label": "train: running",
        "href": "/runs/p1-train",
        "cls": "step state-running",
        "title": "r",
    }
    assert nodes["evaluate"]["label"] == "evaluate: waiting"
    assert nodes["evaluate"]["cls"] == "step state-waiting" and nodes["evaluate"]["href"] is None
    assert graph["edges"] == edges(SPEC)


def test_cached_and_skipped_steps_are_marked_in_word_and_class() -> None:
    cached = step("prepare", "completed", "cached")
    skipped = step("train", "aborted", "skipped")
    retrying = step("evaluate", "pending", "retrying")

    assert (state_word(cached), state_class(cached)) == (
        "completed (cached)",
        "step state-completed cached",
    )
    assert (state_word(skipped), state_class(skipped)) == (
        "aborted (skipped)",
        "step state-aborted skipped",
    )
    assert (state_word(retrying), state_class(retrying)) == ("pending", "step state-pending")


def test_without_its_spec_a_run_graph_shows_the_steps_that_ran_unconnected() -> None:
    graph = run_graph(None, [step("a", "failed")])
    assert [n["label"] for n in graph["nodes"]] == ["a: failed"] and graph["edges"] == []


def test_step_rows_follow_the_spec_with_each_steps_upstream() -> None:
    rows = step_rows(SPEC, [step("prepare", "completed", "cached")])
    assert [(r["step"], r["word"], r["after"]) for r in rows] == [
        ("prepare", "completed (cached)", ""),
        ("train", "waiting", "prepare"),
        ("evaluate", "waiting", "prepare, train"),
    ]
    assert rows[0]["run"].run_id == "p1-prepare" and rows[1]["run"] is None


def test_a_spec_graph_names_and_links_each_steps_pinned_component() -> None:
    pinned = {
        name: PinnedComponent(name=name, version=2, digest="d", spec={})
        for name in ("prepare", "train", "evaluate")
    }
    at = datetime(2026, 1, 1, tzinfo=UTC)
    view = PipelineView(
        name="iris-train",
        version=1,
        digest="d",
        spec=SPEC.model_dump(mode="json"),
        components=pinned,
        created_at=at,
    )

    graph = spec_graph(view)

    assert graph["nodes"][1] == {
        "id": "train",
        "label": "train: train@2",
        "href": "/components/train?version=2",
        "cls": "step",
    }
    assert len(graph["edges"]) == 3


def test_a_spec_ref_is_the_name_or_its_version_and_bad_ones_are_named() -> None:
    assert spec_ref("pipeline", "iris-train", "") == ("iris-train", None)
    assert spec_ref("pipeline", "iris-train", "3") == ("iris-train@3", None)
    assert "is not a version number" in str(spec_ref("pipeline", "iris-train", "latest")[1])
    assert "is not a version number" in str(spec_ref("pipeline", "iris-train", "0")[1])
    assert "pipeline name 'a b'" in str(spec_ref("pipeline", "a b", "")[1])


def test_a_list_offset_is_a_bounded_count_or_a_message() -> None:
    assert list_offset("100") == (100, None)
    assert list_offset("-1") == (0, "offset '-1' is not a number of entries to skip (0 to 10⁹)")
    assert list_offset("9" * 30)[0] == 0 and list_offset("x")[1]
