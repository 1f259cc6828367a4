"""Alertmanager's and Grafana's webhook notifications → boxops events. Pure: no I/O.

A notification groups alerts; each alert becomes an event of its own, `alert.firing` or
`alert.resolved`, whose id is derived from the alert's fingerprint, start and status: a
notification sent again (Alertmanager repeats a group until it resolves) carries the same
ids, and JetStream's dedup (`Nats-Msg-Id` = the event id) drops the copies.

A firing alert that carries a value and a threshold is also a threshold crossing, the
event a monitor publishes, so triggers on those work for alerts too:

- annotation `value`: the value (Prometheus: `{{ $value }}`; Grafana: `{{ $values.B }}`);
- annotation `threshold`: the threshold;
- the metric: annotation or label `metric`, else the label `alertname`;
- `direction` (annotation or label): `below` or `above`; without it, the side of the
  threshold the value is on (a value equal to its threshold crosses nothing);
- the monitor is the alert's `alertname`, the run its label `run_id`, if any.
"""

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.events import (
    Alert,
    AlertFiring,
    AlertResolved,
    Event,
    MetricAboveThreshold,
    MetricBelowThreshold,
)

# Alertmanager's "no end yet": Go's zero time.
ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)
IDS = uuid.UUID("6f1c7d1e-7a1b-4c55-9a57-2b1f0e6d4a10")  # the namespace of alert event ids


class BadAlert(ValueError):
    """An alert whose value or threshold annotation says something that is no number."""


class PayloadAlert(BaseModel):
    """One alert of a notification, as Alertmanager sends it (webhook payload version 4)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime = Field(alias="startsAt")
    ends_at: datetime | None = Field(None, alias="endsAt")
    generator_url: str | None = Field(None, alias="generatorURL")
    fingerprint: str | None = None
    # Grafana's: the values of the rule's queries and expressions.
    values: dict[str, float] | None = None

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("a time needs its UTC offset (RFC 3339)")
        return value


class Notification(BaseModel):
    """A webhook notification: a group of alerts sharing labels, for one receiver."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    receiver: str
    status: Literal["firing", "resolved"]
    alerts: list[PayloadAlert]
    group_labels: dict[str, str] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[str, str] = Field(default_factory=dict, alias="commonLabels")
    common_annotations: dict[str, str] = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str | None = Field(None, alias="externalURL")
    group_key: str | None = Field(None, alias="groupKey")
    truncated_alerts: int = Field(0, ge=0, alias="truncatedAlerts")


class AlertmanagerNotification(Notification):
    version: Literal["4"] = Field(description="The payload version this receiver reads.")


class GrafanaNotification(Notification):
    """Grafana's unified alerting webhook: Alertmanager's shape and a few fields more."""

    version: str | None = None
    org_id: int | None = Field(None, alias="orgId")
    state: str | None = None
    title: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class Outgoing:
    """An event to publish under the id that makes its repeats duplicates; on its own
    subject, or on `subject` (a custom one)."""

    id: str
    event: Event
    subject: str = ""

    @property
    def to(self) -> str:
        return self.subject or self.event.nats_subject()


def events_of(notification: Notification, source: str) -> list[Outgoing]:
    """Each alert of the notification as its events, in the notification's order."""
    found: list[Outgoing] = []
    for item in notification.alerts:
        alert = _alert(item, notification, source)
        found.append(Outgoing(event_id(alert, alert.subject), alert))
        crossing = threshold_crossing(alert)
        if crossing is not None:
            found.append(Outgoing(event_id(alert, crossing.subject), crossing))
    return found


def event_id(alert: Alert, subject: str) -> str:
    """The same alert (fingerprint, start, status) gives the same id for each subject."""
    key = "|".join((alert.fingerprint, alert.starts_at.isoformat(), alert.status, subject))
    return uuid.uuid5(IDS, key).hex


def threshold_crossing(alert: Alert) -> MetricBelowThreshold | MetricAboveThreshold | None:
    """The crossing a firing alert with `value` and `threshold` annotations says, or None."""
    notes, labels = alert.annotations, alert.labels
    if alert.status != "firing" or "value" not in notes or "threshold" not in notes:
        return None
    value, threshold = _number(alert, "value"), _number(alert, "threshold")
    direction = notes.get("direction") or labels.get("direction")
    if direction is None and value != threshold:
        direction = "below" if value < threshold else "above"
    fields: dict[str, Any] = {
        "monitor": labels.get("alertname") or alert.receiver,
        "metric": notes.get("metric") or labels.get("metric") or labels.get("alertname", ""),
        "value": value,
        "threshold": threshold,
        "run_id": labels.get("run_id"),
    }
    if direction == "below":
        return MetricBelowThreshold(**fields)
    if direction == "above":
        return MetricAboveThreshold(**fields)
    if direction is None:
        return None
    raise BadAlert(f"{_name(alert)}: direction {direction!r} is neither 'below' nor 'above'")


def _alert(item: PayloadAlert, notification: Notification, source: str) -> Alert:
    model = AlertFiring if item.status == "firing" else AlertResolved
    return model(
        status=item.status,
        source=source,
        receiver=notification.receiver,
        labels=item.labels,
        annotations=item.annotations,
        fingerprint=item.fingerprint or fingerprint_of(item.labels),
        starts_at=item.starts_at,
        ends_at=item.ends_at if item.ends_at and item.ends_at > ZERO_TIME else None,
        generator_url=item.generator_url or None,
        external_url=notification.external_url or None,
        group_key=notification.group_key,
        values=item.values,
    )


def fingerprint_of(labels: dict[str, str]) -> str:
    """An alert's identity when its sender gave none: its labels, as Alertmanager's is."""
    text = "\0".join(f"{k}\0{v}" for k, v in sorted(labels.items()))
    return uuid.uuid5(IDS, text).hex[:16]


def _number(alert: Alert, key: str) -> float:
    text = alert.annotations[key]
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise BadAlert(f"{_name(alert)}: annotation {key} {text!r} is not a finite number")
    return number


def _name(alert: Alert) -> str:
    return f"alert {alert.labels.get('alertname', alert.fingerprint)!r}"
