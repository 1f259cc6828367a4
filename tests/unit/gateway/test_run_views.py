"""What a run's page shows beyond its row: the cause chain, the code, the timeline."""

from datetime import UTC, datetime, timedelta
from typing import Any

from services.gateway.ui.run_views import (
    Link,
    cause_chain,
    inputs_and_outputs,
    lasted,
    provenance,
    resources,
    timeline,
)
from shared.queries import RunView

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def run(**fields: Any) -> RunView:
    return RunView.model_validate(
        {"id": "r" * 32, "state": "running", "command": ["true"], "created_at": T0} | fields
    )


def test_a_monitors_crossing_leads_through_its_event_and_trigger_to_the_run() -> None:
    cause = {
        "kind": "event",
        "trigger": "retrain",
        "event_id": "e1",
        "subject": "metric.below_threshold",
        "monitor": "accuracy floor",
    }

    chain = cause_chain(run(cause=cause))

    assert chain == [
        Link("monitor accuracy floor", "/monitors/accuracy%20floor"),
        Link("event metric.below_threshold (e1)"),
        Link("trigger retrain", "/triggers/retrain"),
        Link("this run"),
    ]


def test_an_event_leads_through_its_trigger_and_a_step_through_its_pipeline_run() -> None:
    cause = {
        "kind": "event",
        "trigger": "on-iris",
        "event_id": "e2",
        "subject": "dataset.version.created",
    }

    chain = cause_chain(run(cause=cause, parent_id="p" * 32, step="train"))

    assert [link.label for link in chain] == [
        "event dataset.version.created (e2)",
        "trigger on-iris",
        "pipeline run pppppppppppp",
        "step train",
        "this run",
    ]
    assert chain[2].href == "/runs/" + "p" * 32


def test_manual_scheduled_and_retried_runs() -> None:
    assert cause_chain(run()) == [Link("manual"), Link("this run")]
    tick = {"kind": "schedule", "trigger": "nightly", "tick": T0.isoformat()}
    assert [link.label for link in cause_chain(run(cause=tick))] == [
        "schedule at 2026-12-07 12:00:00",
        "trigger nightly",
        "this run",
    ]
    retry = cause_chain(run(cause={"kind": "manual", "retry_of": "a" * 32}))
    assert retry[0] == Link("run aaaaaaaaaaaa", "/runs/" + "a" * 32)
    assert retry[1] == Link("retried")


def test_provenance_shows_what_was_recorded_and_whether_the_tree_was_dirty() -> None:
    recorded = {
        "repo": "git@example.org:ml/iris.git",
        "branch": "main",
        "commit": "c0ffee",
        "dirty": True,
    }

    assert provenance(run(provenance=recorded)) == [
        ("repo", "git@example.org:ml/iris.git"),
        ("branch", "main"),
        ("commit", "c0ffee"),
        ("dirty", "yes: uncommitted changes"),
    ]
    assert provenance(run()) == []


def test_resources_name_their_units() -> None:
    shown = dict(resources(run(resources={"cpu": 2, "memory_mb": 1024, "gpu": 1}, timeout_s=60)))

    assert shown["cpu"] == "2 cores" and shown["memory"] == "1024 MiB"
    assert shown["gpu"] == "1" and shown["timeout"] == "60 s"


def test_the_timeline_says_how_long_each_state_lasted_and_the_last_runs_on() -> None:
    history = [
        {"state": "pending", "at": T0},
        {"state": "running", "at": T0 + timedelta(seconds=2)},
    ]
    now = T0 + timedelta(seconds=5)

    moments = timeline(run(history=history), now)

    assert [(m.state, m.lasted_s) for m in moments] == [("pending", 2.0), ("running", 3.0)]
    ended = [*history, {"state": "completed", "at": now, "reason": "exit code 0"}]
    last = timeline(run(history=ended, state="completed"), now + timedelta(hours=1))[-1]
    assert (last.state, last.lasted_s, last.detail) == ("completed", None, "exit code 0")
    assert (lasted(0.25), lasted(3), lasted(600), lasted(None)) == (
        "250 ms",
        "3.0 s",
        "10.0 min",
        "",
    )


def test_inputs_link_to_the_version_read_and_outputs_to_their_dataset_or_model() -> None:
    inputs = {
        "data": {"type": "dataset", "name": "iris", "version": 2},
        "blob": {"type": "file", "name": "a" * 64},
    }
    outputs = {
        "model": {"type": "model", "name": "iris classifier"},
        "report": {"type": "file", "files": [{"path": "r.txt", "size": 1, "sha256": "b" * 64}]},
    }

    rows = inputs_and_outputs(run(inputs=inputs, outputs=outputs))

    assert [(r.direction, r.name, r.what, r.href) for r in rows] == [
        ("input", "data", "iris@2", "/datasets/iris/versions/2"),
        ("input", "blob", "a" * 64, None),
        ("output", "model", "iris classifier", "/models/iris%20classifier"),
        ("output", "report", "r.txt", None),
    ]


def test_numbers_in_urls_are_ascii_digits_only() -> None:
    from services.gateway.ui.catalog_views import offset_of
    from services.gateway.ui.pipeline_views import list_offset, spec_ref

    assert offset_of("\u00b2")[1] is not None and list_offset("\u00b2")[1] is not None
    assert spec_ref("component", "train", "\u00b2")[1] is not None
    assert offset_of("20") == (20, None) and spec_ref("component", "train", "2") == (
        "train@2",
        None,
    )


def test_a_chart_file_with_nan_or_infinity_is_no_chart() -> None:
    import pydantic
    import pytest

    from shared.artifacts import ConfusionMatrix, Curve

    with pytest.raises(pydantic.ValidationError):
        ConfusionMatrix.model_validate({"labels": ["a"], "matrix": [[float("nan")]]})
    with pytest.raises(pydantic.ValidationError):
        Curve.model_validate({"x": [0, 1], "y": [0, float("inf")]})
