"""The scheduler's tables."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from shared.db import UTCDateTime


class RunRow(SQLModel, table=True):
    __tablename__ = "runs"

    id: str = Field(primary_key=True)
    state: str = Field(index=True)
    substate: str | None = None
    command: list[str] = Field(sa_column=Column(JSON, nullable=False))
    env: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    resources: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    priority: int = 0
    cause: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    executor_id: str | None = Field(default=None, index=True)
    exit_code: int | None = None
    error: str = ""
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class TransitionRow(SQLModel, table=True):
    __tablename__ = "run_transitions"

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(index=True)
    state: str
    substate: str | None = None
    at: datetime = Field(sa_type=UTCDateTime)
    reason: str = ""
