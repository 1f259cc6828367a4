"""What the trigger and monitor pages make of the trigger service's answers."""

from datetime import UTC, datetime

from services.gateway.ui.automation_views import (
    band,
    chart,
    crossing,
    firing,
    rule,
    spec_text,
    summary,
    watches,
)

AT = "2026-12-07T10:00:00+00:00"


def test_a_trigger_watches_its_event_subject_with_its_filter() -> None:
    spec = {"event": {"subject": "dataset.version.created", "where": {"dataset": "iris"}}}
    assert watches(spec) == "dataset.version.created where {dataset: iris}"
    assert watches({"event": {"subject": "ext.x"}}) == "ext.x"


def test_a_scheduled_trigger_watches_its_cron_in_its_time_zone() -> None:
    spec = {"schedule": {"cron": "0 3 * * *", "timezone": "Europe/Paris"}}
    assert watches(spec) == "schedule 0 3 * * * (Europe/Paris)"


def test_an_all_of_trigger_names_each_condition_and_its_window() -> None:
    spec = {
        "all_of": {"window": 60.0, "events": {"a": {"subject": "ext.a"}, "b": {"subject": "ext.b"}}}
    }
    assert watches(spec) == "all of, within 60 s: ext.a; ext.b"


def test_a_trigger_without_a_condition_is_fired_by_hand_and_a_monitor_watches_its_metric() -> None:
    assert watches({"target": {"command": ["true"]}}) == "fired by hand only"
    assert (
        watches({"metric": "accuracy", "where": {"pipeline": "iris"}})
        == "metric accuracy (pipeline=iris)"
    )


def test_a_monitors_rule_says_its_direction_threshold_and_where_it_re_arms() -> None:
    spec = {"metric": "accuracy", "below": 0.9, "hysteresis": 0.02, "aggregate": "last"}
    assert rule(spec) == "last accuracy below 0.9 (re-arms at 0.92)"
    assert rule({"metric": "loss", "above": 2, "for": 60.0}) == "last loss above 2 for 60 s"


def test_a_firing_of_an_event_keeps_its_event_and_run() -> None:
    row = {
        "status": "fired",
        "at": AT,
        "event_id": "e1",
        "run_id": "r1",
        "key": "e1",
        "run_state": "completed",
    }
    shown = firing(row)
    assert shown["at"] == datetime(2026, 12, 7, 10, tzinfo=UTC)
    assert (shown["cause"], shown["event_id"], shown["run_id"]) == ("event", "e1", "r1")


def test_a_debounced_or_skipped_firing_has_no_run_and_says_why() -> None:
    skipped = firing({"status": "skipped", "at": AT, "key": "manual:x", "reason": "one is running"})
    assert (skipped["run_id"], skipped["cause"], skipped["reason"]) == (
        "",
        "by hand",
        "one is running",
    )
    tick = firing({"status": "debounced", "at": AT, "key": "t", "tick": AT})
    assert tick["cause"] == "schedule" and tick["tick"] == datetime(2026, 12, 7, 10, tzinfo=UTC)


def test_a_summary_shows_the_last_firing_or_none() -> None:
    shown = {
        "name": "t",
        "kind": "trigger",
        "type": "event",
        "enabled": False,
        "spec": {"event": {"subject": "ext.a"}},
    }
    assert summary(shown | {"recent": []})["last"] is None
    last = summary(shown | {"recent": [{"status": "fired", "at": AT, "run_id": "r9"}]})["last"]
    assert last is not None and last["run_id"] == "r9"


def test_the_spec_is_shown_as_yaml_in_its_own_order_without_what_was_left_unset() -> None:
    spec = {"kind": "trigger", "name": "t", "description": "", "schedule": None}
    assert spec_text(spec) == "kind: trigger\nname: t\n"


def test_a_below_monitors_band_re_arms_above_its_threshold_and_an_above_one_below() -> None:
    assert band({"below": 0.9, "hysteresis": 0.02}) == {
        "direction": "below",
        "threshold": 0.9,
        "rearm": 0.92,
    }
    assert band({"above": 2.0}) == {"direction": "above", "threshold": 2.0, "rearm": 2.0}
    assert band({"above": 2.0, "hysteresis": 0.5})["rearm"] == 1.5


def test_a_monitors_chart_has_its_points_by_time_and_its_crossings_oldest_first() -> None:
    later = "2026-12-07T10:01:00+00:00"
    rows = [
        {"kind": "recovered", "at": later, "value": 0.95, "threshold": 0.9, "run_id": None},
        {"kind": "below", "at": AT, "value": 0.8, "threshold": 0.9, "run_id": "r1"},
    ]
    crossings = [crossing(row) for row in rows]
    points = [{"at": AT, "value": 0.8}, {"at": later, "value": 0.95}]

    shown = chart({"metric": "accuracy", "below": 0.9}, points, crossings)

    start = datetime(2026, 12, 7, 10, tzinfo=UTC).timestamp()
    assert shown["series"] == [{"label": "accuracy", "x": [start, start + 60], "y": [0.8, 0.95]}]
    assert shown["crossings"] == [
        {"x": start, "y": 0.8, "kind": "below"},
        {"x": start + 60, "y": 0.95, "kind": "recovered"},
    ]
    assert crossings[1]["run_id"] == "r1" and crossings[0]["run_id"] == ""
    assert shown["band"]["threshold"] == 0.9 and shown["time"] is True
