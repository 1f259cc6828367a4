"""The scheduler's tables."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from shared.db import UTCDateTime
from shared.metadata import service_metadata, stored_default


def json_column() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class RunRow(SQLModel, table=True):
    __tablename__ = "runs"

    id: str = Field(primary_key=True)
    kind: str = stored_default("command")
    state: str = Field(index=True)
    substate: str | None = None
    reason: str = stored_default("", sa_type=Text)
    command: list[str] = Field(sa_column=Column(JSON, nullable=False))
    env: dict[str, str] = json_column()
    resources: dict[str, Any] = json_column()
    priority: int = stored_default(0)
    cause: dict[str, Any] = json_column()
    trigger: str | None = Field(default=None, index=True)
    params: dict[str, Any] = json_column()
    reported_params: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=Column(JSON, nullable=False, server_default="{}"),
    )
    inputs: dict[str, Any] = json_column()
    declared_outputs: dict[str, Any] = json_column()
    outputs: dict[str, Any] = json_column()
    spec: dict[str, Any] = json_column()
    component: str | None = Field(default=None, index=True)
    pipeline: str | None = Field(default=None, index=True)
    parent_id: str | None = Field(default=None, index=True)
    step: str | None = None
    image: str | None = None
    backend: str = stored_default("local")
    network: bool = stored_default(False)
    selector: dict[str, str] = json_column()
    timeout_s: float | None = None
    retries: int = stored_default(0)
    retry_backoff_s: float = stored_default(5.0)
    attempt: int = stored_default(1)
    not_before: datetime | None = Field(default=None, sa_type=UTCDateTime)
    concurrency_key: str | None = Field(default=None, index=True)
    max_concurrency: int | None = None
    cache_key: str | None = Field(default=None, index=True)
    executor_id: str | None = Field(default=None, index=True)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    stop_reason: str | None = Field(default=None, sa_type=Text)
    exit_code: int | None = None
    error: str = stored_default("", sa_type=Text)
    provenance: dict[str, Any] = json_column()
    metrics: dict[str, float] = json_column()
    tags: dict[str, str] = json_column()
    artifacts: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    logs: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    usage: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    devices: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    # Kept from the transitions for the run list to show and sort by (a pipeline has no
    # started_at: no process of its own).
    running_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    duration_s: float | None = None

    __table_args__ = (
        # The run list's keyset orders: each sort key, ties broken by id.
        sa.Index("ix_runs_created_at_id", "created_at", "id"),
        sa.Index("ix_runs_state_created_at_id", "state", "created_at", "id"),
        sa.Index("ix_runs_running_at_id", "running_at", "id"),
        sa.Index("ix_runs_duration_s_id", "duration_s", "id"),
    )


class TransitionRow(SQLModel, table=True):
    __tablename__ = "run_transitions"

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(index=True)
    state: str
    substate: str | None = None
    at: datetime = Field(sa_type=UTCDateTime)
    reason: str = stored_default("", sa_type=Text)


class MetricRow(SQLModel, table=True):
    __tablename__ = "run_metrics"
    # A chart reads one metric's series of a run: its range of this index.
    __table_args__ = (sa.Index("ix_run_metrics_series", "run_id", "name", "step"),)

    id: str = Field(primary_key=True)  # the metric.logged event id: redelivery adds nothing
    run_id: str
    name: str
    step: int | None = None
    value: float
    at: datetime = Field(sa_type=UTCDateTime)


class RunInputRow(SQLModel, table=True):
    """A run's resolved inputs, one row each, so runs can be found by what they read."""

    __tablename__ = "run_inputs"

    run_id: str = Field(primary_key=True)
    input: str = Field(primary_key=True)
    type: str
    name: str
    version: int | None = None

    __table_args__ = (sa.Index("ix_run_inputs_type_name_version", "type", "name", "version"),)


class RunTextRow(SQLModel, table=True):
    """What free text finds a run by (services/scheduler/texts.py), apart from the run's
    wide row so that a search that reads every run reads little."""

    __tablename__ = "run_texts"

    run_id: str = Field(primary_key=True)
    text: str = Field(sa_type=Text)


class LastMetricRow(SQLModel, table=True):
    """Each run's last value of each metric (by step, then time): one row a run and metric,
    updated once a batch of points, for the run list to show and sort by."""

    __tablename__ = "run_last_metrics"

    run_id: str = Field(primary_key=True)
    name: str = Field(primary_key=True)
    value: float
    step: int | None = None
    at: datetime = Field(sa_type=UTCDateTime)

    __table_args__ = (sa.Index("ix_run_last_metrics_name_value", "name", "value", "run_id"),)


def _micros() -> Any:
    return Field(sa_type=sa.BigInteger)


class OutlineRow(SQLModel, table=True):
    """A metric series' outline along one axis (services/scheduler/outline.py): its buckets'
    width, its count, its first and last points; written once a batch of points."""

    __tablename__ = "run_metric_outlines"

    run_id: str = Field(primary_key=True)
    name: str = Field(primary_key=True)
    axis: str = Field(primary_key=True)
    shift: int
    count: int
    first_id: str
    first_step: int | None = None
    first_us: int = _micros()
    first_value: float
    last_id: str
    last_step: int | None = None
    last_us: int = _micros()
    last_value: float


class BucketRow(SQLModel, table=True):
    """A bucket of a series' outline: its lowest and highest points, folded in once a batch."""

    __tablename__ = "run_metric_buckets"

    run_id: str = Field(primary_key=True)
    name: str = Field(primary_key=True)
    axis: str = Field(primary_key=True)
    bucket: int = Field(primary_key=True, sa_type=sa.BigInteger)
    low_id: str
    low_step: int | None = None
    low_us: int = _micros()
    low_value: float
    high_id: str
    high_step: int | None = None
    high_us: int = _micros()
    high_value: float


# What this service's migrations build (tests/integration/test_migrations.py holds them to it).
METADATA = service_metadata(
    RunRow,
    TransitionRow,
    MetricRow,
    RunInputRow,
    RunTextRow,
    LastMetricRow,
    OutlineRow,
    BucketRow,
)
