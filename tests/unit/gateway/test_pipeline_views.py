"""A pipeline's steps as the pages draw them: nodes and edges from the spec, each step's
run state as a class and a word, cached and skipped steps marked."""

from services.gateway.ui.pipeline_views import (
    edges,
    run_graph,
    state_class,
    state_word,
    step_rows,
)
from shared.queries import StepView
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
