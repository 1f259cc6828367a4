"""The trigger service's tables."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.db import UTCDateTime
from shared.metadata import service_metadata, stored_default


class TriggerRow(SQLModel, table=True):
    __tablename__ = "triggers"

    name: str = Field(primary_key=True)
    kind: str = stored_default("trigger")  # trigger | monitor
    spec: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    version: int = stored_default(1)
    enabled: bool = stored_default(True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class FiringRow(SQLModel, table=True):
    """One decision of a trigger: fired (with its run), skipped, queued or debounced."""

    __tablename__ = "firings"
    __table_args__ = (UniqueConstraint("trigger", "key", name="uq_firings_trigger_key"),)

    id: str = Field(primary_key=True)
    trigger: str = Field(index=True)
    key: str  # what makes it unique: an event id, a schedule tick, a manual request id
    # fired | skipped | queued | debounced (with a run_id once its window fired) | superseded
    status: str = Field(index=True)
    reason: str = stored_default("", sa_type=Text)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    event_id: str | None = None
    tick: datetime | None = Field(default=None, sa_type=UTCDateTime)
    depth: int = stored_default(0)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    inputs: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    command: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    run_id: str | None = Field(default=None, index=True)
    run_state: str | None = None


class SeenRow(SQLModel, table=True):
    """The latest event seen for each condition of an all_of trigger."""

    __tablename__ = "all_of_seen"

    trigger: str = Field(primary_key=True)
    condition: str = Field(primary_key=True)
    event_id: str
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    at: datetime = Field(sa_type=UTCDateTime)


class ScheduleRow(SQLModel, table=True):
    __tablename__ = "schedule_state"

    trigger: str = Field(primary_key=True)
    last_tick: datetime = Field(sa_type=UTCDateTime)


class MonitorStateRow(SQLModel, table=True):
    __tablename__ = "monitor_state"

    monitor: str = Field(primary_key=True)
    state: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class MonitorEventRow(SQLModel, table=True):
    __tablename__ = "monitor_events"

    id: str = Field(primary_key=True)
    monitor: str = Field(index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    kind: str  # below | above | recovered
    value: float
    threshold: float
    run_id: str | None = None


class MonitorPointRow(SQLModel, table=True):
    """A point a monitor saw: its chart's data (the newest KEPT_POINTS of each monitor)."""

    __tablename__ = "monitor_points"
    # A monitor's points newest first: its chart and the trim of its oldest read this.
    __table_args__ = (Index("ix_monitor_points_monitor_at", "monitor", "at"),)

    id: str = Field(primary_key=True)
    monitor: str
    at: datetime = Field(sa_type=UTCDateTime)
    value: float
    run_id: str | None = None


class DeliveryRow(SQLModel, table=True):
    """A notification a firing sends, until it is delivered or dead-lettered: an outbox
    of its own, so a delivery waiting for its next attempt outlives a restart."""

    __tablename__ = "deliveries"

    id: str = Field(primary_key=True)  # the firing's id: one delivery a firing
    trigger: str = Field(index=True)
    notify: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # the spec's, then
    body: str = Field(sa_type=Text)
    state: str = Field(index=True)  # pending | delivered | failed
    attempts: int = stored_default(0)
    due_at: datetime = Field(sa_type=UTCDateTime, index=True)  # next attempt, or lease end
    dead_lettered: bool = stored_default(False)


class AttemptRow(SQLModel, table=True):
    """One attempt to deliver a notification, shown in its trigger's history."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (UniqueConstraint("delivery", "attempt", name="uq_attempts_delivery"),)

    id: str = Field(primary_key=True)
    delivery: str = Field(index=True)
    attempt: int
    at: datetime = Field(sa_type=UTCDateTime)
    status_code: int | None = None
    error: str = stored_default("", sa_type=Text)
    outcome: str  # delivered | retry | failed


# What this service's migrations build (tests/integration/test_migrations.py holds them to it).
METADATA = service_metadata(
    TriggerRow,
    FiringRow,
    SeenRow,
    ScheduleRow,
    MonitorStateRow,
    MonitorEventRow,
    MonitorPointRow,
    DeliveryRow,
    AttemptRow,
)
