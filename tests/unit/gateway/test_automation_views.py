"""What the trigger and monitor pages make of the trigger service's answers."""

from datetime import UTC, datetime

from services.gateway.ui.automation_views import firing, rule, spec_text, summary, watches

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
        "type": "event",
        "enabled": False,
        "spec": {"event": {"subject": "ext.a"}},
    }
    assert summary(shown | {"recent": []})["last"] is None
    last = summary(shown | {"recent": [{"status": "fired", "at": AT, "run_id": "r9"}]})["last"]
    assert last is not None and last["run_id"] == "r9"


def test_the_spec_is_shown_as_yaml_in_its_own_order() -> None:
    assert spec_text({"kind": "trigger", "name": "t"}) == "kind: trigger\nname: t\n"
