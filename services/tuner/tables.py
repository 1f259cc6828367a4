"""The tuner's tables: a study per sweep run and a row per trial, from which the Optuna
study is rebuilt (services/tuner/study.py): nothing of a search lives only in memory."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from shared.db import UTCDateTime
from shared.metadata import service_metadata


def json_column() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class StudyRow(SQLModel, table=True):
    __tablename__ = "studies"

    run_id: str = Field(primary_key=True)  # the sweep run
    sweep: str  # NAME@VERSION
    spec: dict[str, Any] = json_column()
    target: str
    target_kind: str
    params: dict[str, Any] = json_column()  # fixed params of every trial
    inputs: dict[str, Any] = json_column()
    cause: dict[str, Any] = json_column()
    state: str = Field(index=True)  # searching | ended
    reason: str = Field(default="", sa_type=Text)
    started_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TrialRow(SQLModel, table=True):
    __tablename__ = "trials"

    run_id: str = Field(primary_key=True)  # the trial's run
    study_id: str = Field(index=True)  # the sweep run
    number: int
    params: dict[str, Any] = json_column()
    system_attrs: dict[str, Any] = json_column()  # what Optuna's sampler keeps (grid ids)
    state: str = Field(index=True)  # running | pruning | completed | failed | pruned
    value: float | None = None
    steps: dict[str, Any] = json_column()  # intermediate values of the objective, by step
    metrics: dict[str, Any] = json_column()  # a pipeline trial: its steps' last values
    reason: str = Field(default="", sa_type=Text)
    requested_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


METADATA = service_metadata(StudyRow, TrialRow)
