"""Filters, bindings, schedules, monitors and the firing policy. Pure, no I/O."""

from datetime import UTC, datetime, timedelta

import pytest

from services.trigger.bindings import MissingBinding, render
from services.trigger.filters import matches, subject_matches
from services.trigger.matcher import Matcher
from services.trigger.monitors import MonitorState, Point, observe
from services.trigger.policy import decide
from services.trigger.schedules import due, ticks_between
from shared.trigger_specs import MonitorSpec, Schedule, TriggerSpec

EVENT = {"dataset": "iris", "version": 3, "metadata": {"rows": 150, "tags": ["a"]}, "x": None}


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"dataset": "iris"}, True),
        ({"dataset": "wine"}, False),
        ({"metadata.rows": {"gte": 150, "lt": 200}}, True),
        ({"metadata.rows": {"gt": 150}}, False),
        ({"version": {"in": [1, 3]}}, True),
        ({"version": {"nin": [1, 3]}}, False),
        ({"dataset": {"ne": "wine"}}, True),
        ({"dataset": {"regex": "^ir"}}, True),
        ({"missing": {"exists": False}}, True),
        ({"x": {"exists": True}}, True),
        ({"metadata.tags.0": "a"}, True),
        ({"missing": {"ne": 1}}, True),
        ({"missing": 1}, False),
        ({"dataset": {"gt": 3}}, False),  # a string against a number: no match, no crash
    ],
)
def test_where_filters(where: dict, expected: bool) -> None:  # type: ignore[type-arg]
    assert matches(where, EVENT) is expected


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("a.b", "a.b", True),
        ("a.*", "a.b", True),
        ("a.*", "a.b.c", False),
        ("a.>", "a.b.c", True),
        ("a.>", "a", False),
        (">", "x.y", True),
    ],
)
def test_subject_wildcards(pattern: str, subject: str, expected: bool) -> None:
    assert subject_matches(pattern, subject) is expected


def test_bindings_keep_types_for_whole_values_and_make_text_otherwise() -> None:
    context = {"event": EVENT}
    assert render("{{ event.version }}", context) == 3
    assert render("{{ event.dataset }}@{{ event.version }}", context) == "iris@3"
    assert render({"n": ["{{ event.metadata.rows }}"]}, context) == {"n": [150]}
    with pytest.raises(MissingBinding, match=r"event\.nope"):
        render("{{ event.nope }}", context)


def test_cron_ticks_are_utc_instants_and_a_fall_back_hour_fires_once() -> None:
    schedule = Schedule(cron="30 2 * * *", timezone="Europe/Berlin")
    # 2026-10-25: clocks go back from 03:00 to 02:00 in Berlin, so 02:30 happens twice.
    ticks = ticks_between(
        schedule,
        datetime(2026, 10, 24, 12, tzinfo=UTC),
        datetime(2026, 10, 26, 12, tzinfo=UTC),
    )
    assert len(ticks) == len(set(ticks))
    assert all(t.tzinfo is UTC for t in ticks)
    assert (
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC) in ticks
        or datetime(2026, 10, 25, 1, 30, tzinfo=UTC) in ticks
    )
    assert len([t for t in ticks if t.date() == datetime(2026, 10, 25).date()]) == 1


def test_catchup_policies_after_a_gap() -> None:
    now = datetime(2026, 1, 1, 12, 0, 10, tzinfo=UTC)
    last = now - timedelta(minutes=5)
    minutely = "* * * * *"
    assert due(Schedule(cron=minutely, catchup="none"), last, now) == (
        [datetime(2026, 1, 1, 12, 0, tzinfo=UTC)],
        4,
    )
    assert due(Schedule(cron=minutely, catchup="latest"), last, now)[1] == 4
    fired, dropped = due(Schedule(cron=minutely, catchup="all", max_catchup=3), last, now)
    assert (len(fired), dropped) == (3, 2)
    assert due(Schedule(cron=minutely), None, now) == ([], 0)  # a new schedule starts now


def test_a_monitor_latches_until_recovered_past_the_band() -> None:
    spec = MonitorSpec(name="m", metric="acc", below=0.9, hysteresis=0.05)
    t = datetime(2026, 1, 1, tzinfo=UTC)
    state = MonitorState()
    kinds = []
    for i, value in enumerate([0.95, 0.8, 0.7, 0.92, 0.96, 0.5]):
        verdict = observe(spec, state, Point(t + timedelta(seconds=i), value))
        state = verdict.state
        kinds.append("cross" if verdict.crossing else "recover" if verdict.recovered else "-")
    assert kinds == ["-", "cross", "-", "-", "recover", "cross"]


def test_a_mean_window_smooths_a_single_dip() -> None:
    spec = MonitorSpec(name="m", metric="acc", below=0.9, aggregate="mean", window_points=3)
    t = datetime(2026, 1, 1, tzinfo=UTC)
    state = MonitorState()
    for i, value in enumerate([0.95, 0.95, 0.85]):
        verdict = observe(spec, state, Point(t + timedelta(seconds=i), value))
        state = verdict.state
    assert verdict.crossing is None  # mean 0.917


TRIGGER = TriggerSpec.model_validate(
    {
        "name": "t",
        "target": {"pipeline": "p", "inputs": {"data": "{{ event.dataset }}@{{ event.version }}"}},
        "event": {"subject": "dataset.version.created"},
        "concurrency": "skip",
    }
)


def test_the_policy_binds_then_applies_concurrency_and_depth() -> None:
    context = {"event": EVENT}
    fired = decide(TRIGGER, context, depth=0, active_runs=[])
    assert (fired.action, fired.inputs) == ("fire", {"data": "iris@3"})
    assert decide(TRIGGER, context, depth=0, active_runs=["r1"]).action == "skip"
    assert decide(TRIGGER, context, depth=3, active_runs=[]).reason.startswith("causation depth 3")
    missing = decide(TRIGGER, {"event": {"dataset": "iris"}}, depth=0, active_runs=[])
    assert (missing.action, missing.reason) == (
        "skip",
        "binding {{ event.version }} has no value in this event",
    )


def test_the_matcher_finds_the_same_triggers_through_its_index_as_a_full_scan() -> None:
    def spec(name: str, where: dict, subject: str = "dataset.version.created") -> TriggerSpec:  # type: ignore[type-arg]
        return TriggerSpec.model_validate(
            {
                "name": name,
                "target": {"command": ["true"]},
                "event": {"subject": subject, "where": where},
            }
        )

    specs = [
        spec("by-name", {"dataset": "iris"}),
        spec("by-name-and-rows", {"dataset": "iris", "metadata.rows": {"gt": 100}}),
        spec("other-name", {"dataset": "wine"}),
        spec("by-version", {"version": 3}),
        spec("operators-only", {"metadata.rows": {"gte": 150}}),
        spec("no-filter", {}),
        spec("wildcard", {"dataset": "iris"}, subject="dataset.>"),
        spec("other-subject", {}, subject="model.version.created"),
    ]
    found = {s.name for s, _ in Matcher(specs).match("dataset.version.created", EVENT)}
    scanned = {
        s.name
        for s in specs
        if subject_matches(s.event.subject, "dataset.version.created")  # type: ignore[union-attr]
        and matches(s.event.where, EVENT)  # type: ignore[union-attr]
    }
    assert (
        found
        == scanned
        == {"by-name", "by-name-and-rows", "by-version", "operators-only", "no-filter", "wildcard"}
    )
