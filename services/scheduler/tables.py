"""The scheduler's tables."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
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
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(sa_type=UTCDateTime)


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
    __table_args__ = (Index("ix_run_metrics_series", "run_id", "name", "step"),)

    id: str = Field(primary_key=True)  # the metric.logged event id: redelivery adds nothing
    run_id: str
    name: str
    step: int | None = None
    value: float
    at: datetime = Field(sa_type=UTCDateTime)


# What this service's migrations build (tests/integration/test_migrations.py holds them to it).
METADATA = service_metadata(RunRow, TransitionRow, MetricRow)
