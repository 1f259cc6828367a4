"""Alertmanager's and Grafana's notifications → events: each alert its own event, ids
that make a repeat a duplicate, and a threshold crossing for an alert that says one."""

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from services.gateway.alerts import (
    AlertmanagerNotification,
    BadAlert,
    GrafanaNotification,
    Outgoing,
    events_of,
)
from shared.events import (
    AlertFiring,
    AlertResolved,
    MetricAboveThreshold,
    MetricBelowThreshold,
)
from tests.unit.gateway.alert_payloads import ALERTMANAGER, GRAFANA


def alertmanager(payload: dict[str, Any]) -> list[Outgoing]:
    return events_of(AlertmanagerNotification.model_validate(payload), "alertmanager")


def with_annotations(**annotations: str) -> dict[str, Any]:
    payload = copy.deepcopy(ALERTMANAGER)
    payload["alerts"] = payload["alerts"][:1]
    payload["alerts"][0]["annotations"] = annotations
    return payload


def test_each_alert_of_a_grouped_notification_is_its_own_event() -> None:
    firing, crossing, resolved = (o.event for o in alertmanager(ALERTMANAGER))
    assert isinstance(firing, AlertFiring)
    assert firing.labels == ALERTMANAGER["alerts"][0]["labels"]
    assert firing.annotations["summary"] == "Prediction drift above its limit"
    assert firing.fingerprint == "1a30ba71cca2921f"
    assert firing.receiver == "boxops"
    assert firing.source == "alertmanager"
    assert firing.starts_at == datetime(2026, 12, 7, 7, 52, 26, 739266, tzinfo=UTC)
    assert firing.ends_at is None  # Alertmanager's zero time: not ended
    assert firing.external_url == "http://alertmanager.example.org:9093"
    assert isinstance(crossing, MetricAboveThreshold)
    assert isinstance(resolved, AlertResolved)
    assert resolved.labels["model"] == "fraud"
    assert resolved.ends_at == datetime(2026, 12, 7, 9, tzinfo=UTC)


def test_a_repeated_notification_has_the_same_ids_and_a_resolution_another() -> None:
    first = [o.id for o in alertmanager(ALERTMANAGER)]
    assert first == [o.id for o in alertmanager(copy.deepcopy(ALERTMANAGER))]
    assert len(set(first)) == 3
    resolved = copy.deepcopy(ALERTMANAGER)
    resolved["alerts"][0]["status"] = "resolved"
    assert alertmanager(resolved)[0].id != first[0]
    again = copy.deepcopy(ALERTMANAGER)
    again["alerts"][0]["startsAt"] = "2026-12-08T00:00:00Z"  # it fired anew
    assert alertmanager(again)[0].id != first[0]


def test_a_value_above_its_threshold_is_a_crossing_in_the_monitors_shape() -> None:
    crossing = alertmanager(ALERTMANAGER)[1].event
    assert crossing == MetricAboveThreshold(
        monitor="ModelDrift", metric="psi", value=0.31, threshold=0.2, run_id=None
    )


@pytest.mark.parametrize(
    ("annotations", "expected"),
    [
        ({"value": "0.7", "threshold": "0.8"}, MetricBelowThreshold),
        ({"value": "0.9", "threshold": "0.8"}, MetricAboveThreshold),
        ({"value": "0.9", "threshold": "0.8", "direction": "below"}, MetricBelowThreshold),
        ({"value": "0.8", "threshold": "0.8"}, None),
        ({"value": "0.8"}, None),
        ({"summary": "no numbers"}, None),
    ],
)
def test_the_crossing_follows_the_value_threshold_and_direction(
    annotations: dict[str, str], expected: type | None
) -> None:
    found = [o.event for o in alertmanager(with_annotations(**annotations))][1:]
    assert [type(e) for e in found] == ([expected] if expected else [])
    for crossing in found:
        assert isinstance(crossing, MetricBelowThreshold | MetricAboveThreshold)
        assert crossing.metric == "ModelDrift"  # no `metric`: the alert's name


def test_a_resolved_alert_crosses_nothing() -> None:
    payload = with_annotations(value="0.9", threshold="0.8")
    payload["alerts"][0]["status"] = "resolved"
    assert [type(o.event) for o in alertmanager(payload)] == [AlertResolved]


@pytest.mark.parametrize(
    ("annotations", "problem"),
    [
        ({"value": "high", "threshold": "0.8"}, "annotation value 'high' is not a finite number"),
        ({"value": "NaN", "threshold": "0.8"}, "annotation value 'NaN' is not a finite number"),
        ({"value": "1", "threshold": "+Inf"}, "annotation threshold '+Inf' is not a finite"),
        ({"value": "1", "threshold": "2", "direction": "up"}, "direction 'up' is neither"),
    ],
)
def test_numbers_that_are_none_are_named(annotations: dict[str, str], problem: str) -> None:
    with pytest.raises(BadAlert, match="alert 'ModelDrift': " + problem.replace("+", r"\+")):
        alertmanager(with_annotations(**annotations))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"version": "3"}, "version"),
        ({"status": "pending"}, "status"),
        ({"alerts": [{"status": "firing"}]}, "alerts.0.startsAt"),
        ({"alerts": [{"status": "firing", "startsAt": "2026-12-07T10:00:00"}]}, "startsAt"),
    ],
)
def test_a_payload_not_in_the_documented_shape_is_refused(
    change: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError, match=field.split(".")[-1]):
        AlertmanagerNotification.model_validate(ALERTMANAGER | change)


def test_an_alert_without_a_fingerprint_gets_one_from_its_labels() -> None:
    payload = copy.deepcopy(ALERTMANAGER)
    for alert in payload["alerts"]:
        del alert["fingerprint"]
    events = [o.event for o in alertmanager(payload)]
    assert isinstance(events[0], AlertFiring)
    assert isinstance(events[2], AlertResolved)
    assert len(events[0].fingerprint) == 16
    assert events[0].fingerprint != events[2].fingerprint
    assert [o.id for o in alertmanager(payload)] == [o.id for o in alertmanager(payload)]


def test_grafanas_documented_example_makes_the_same_events_with_its_values() -> None:
    notification = GrafanaNotification.model_validate(GRAFANA)
    memory, cpu = (o.event for o in events_of(notification, "grafana"))
    assert isinstance(memory, AlertFiring) and isinstance(cpu, AlertFiring)
    assert memory.source == "grafana"
    assert memory.labels == {"alertname": "High memory usage", "team": "blue", "zone": "us-1"}
    assert memory.values == {"B": 44.23943737541908, "C": 1}
    assert memory.fingerprint == "c6eadffa33fcdf37"
    assert notification.title == "[FIRING:2]  (blue)"
    assert notification.org_id == 1


def test_a_grafana_alert_whose_annotations_carry_a_value_crosses_too() -> None:
    payload = copy.deepcopy(GRAFANA)
    payload["alerts"][0]["annotations"] |= {"value": "44.2", "threshold": "80"}
    events = [o.event for o in events_of(GrafanaNotification.model_validate(payload), "grafana")]
    assert [type(e) for e in events] == [AlertFiring, MetricBelowThreshold, AlertFiring]
