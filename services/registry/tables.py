"""The registry's tables."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.db import UTCDateTime
from shared.metadata import service_metadata, stored_default


def json_column(default: Any = dict) -> Any:
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


class DatasetRow(SQLModel, table=True):
    __tablename__ = "datasets"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    type: str = stored_default("other")
    description: str = stored_default("", sa_type=Text)
    tags: list[str] = json_column(list)
    created_at: datetime = Field(sa_type=UTCDateTime)


class DatasetVersionRow(SQLModel, table=True):
    __tablename__ = "dataset_versions"
    __table_args__ = (
        UniqueConstraint("dataset_id", "version"),
        UniqueConstraint("dataset_id", "identity"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(index=True)
    version: int
    identity: str = Field(sa_type=Text)  # digest, pinned URI or URI: one version per identity
    digest: str | None = None
    uri: str | None = Field(default=None, sa_type=Text)
    managed: bool
    file_count: int = stored_default(0)
    meta: dict[str, Any] = json_column()
    pin: dict[str, Any] = json_column()
    changes: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    parents: list[str] = json_column(list)
    previous_version: int | None = None
    run_id: str | None = Field(default=None, index=True)
    source: str = stored_default("")
    created_at: datetime = Field(sa_type=UTCDateTime)
    # External data the registry reads (file://) is hashed after the version is recorded.
    state: str = stored_default("pinned", index=True)  # pinning | pinned | failed
    state_reason: str | None = Field(default=None, sa_type=Text)


class DatasetFileRow(SQLModel, table=True):
    __tablename__ = "dataset_files"

    version_id: int = Field(primary_key=True)
    path: str = Field(primary_key=True, sa_type=Text)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    sha256: str = Field(sa_type=String(64))


class StagedFilesRow(SQLModel, table=True):
    """A chunk of a manifest too large for one message, until its version is created."""

    __tablename__ = "staged_files"

    upload_id: str = Field(primary_key=True)
    seq: int = Field(primary_key=True)
    files: list[dict[str, Any]] = json_column(list)
    created_at: datetime = Field(sa_type=UTCDateTime)


class ModelRow(SQLModel, table=True):
    __tablename__ = "models"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    description: str = stored_default("", sa_type=Text)
    tags: list[str] = json_column(list)
    created_at: datetime = Field(sa_type=UTCDateTime)


class ModelVersionRow(SQLModel, table=True):
    __tablename__ = "model_versions"
    __table_args__ = (
        UniqueConstraint("model_id", "version"),
        UniqueConstraint("model_id", "digest"),
    )

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(index=True)
    version: int
    digest: str
    files: list[dict[str, Any]] = json_column(list)
    format: str | None = None
    framework: str | None = None
    run_id: str | None = Field(default=None, index=True)
    metrics: dict[str, float] = json_column()
    meta: dict[str, Any] = json_column()
    parents: list[str] = json_column(list)
    created_at: datetime = Field(sa_type=UTCDateTime)


class AliasRow(SQLModel, table=True):
    __tablename__ = "model_aliases"

    model_id: int = Field(primary_key=True)
    alias: str = Field(primary_key=True)
    version: int
    updated_at: datetime = Field(sa_type=UTCDateTime)


class ComponentRow(SQLModel, table=True):
    __tablename__ = "components"
    __table_args__ = (UniqueConstraint("name", "version"), UniqueConstraint("name", "digest"))

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    version: int
    digest: str
    type: str
    description: str = stored_default("", sa_type=Text)
    spec: dict[str, Any] = json_column()
    source: str = stored_default("", sa_type=Text)  # the YAML as registered
    created_at: datetime = Field(sa_type=UTCDateTime)


class PipelineRow(SQLModel, table=True):
    __tablename__ = "pipelines"
    __table_args__ = (UniqueConstraint("name", "version"), UniqueConstraint("name", "digest"))

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    version: int
    digest: str
    description: str = stored_default("", sa_type=Text)
    spec: dict[str, Any] = json_column()
    components: dict[str, str] = json_column()  # step → component NAME@VERSION
    source: str = stored_default("", sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime)


class LineageRunRow(SQLModel, table=True):
    __tablename__ = "lineage_runs"

    run_id: str = Field(primary_key=True)
    component: str | None = None
    pipeline: str | None = None
    parent_run_id: str | None = None
    at: datetime = Field(sa_type=UTCDateTime)


class EdgeRow(SQLModel, table=True):
    """Data flowed from `src` to `dst` (keys such as dataset:iris@3, run:abc, model:clf@1)."""

    __tablename__ = "lineage_edges"

    src: str = Field(primary_key=True, sa_type=Text)
    dst: str = Field(primary_key=True, index=True, sa_type=Text)


# What this service's migrations build (tests/integration/test_migrations.py holds them to it).
METADATA = service_metadata(
    DatasetRow,
    DatasetVersionRow,
    DatasetFileRow,
    StagedFilesRow,
    ModelRow,
    ModelVersionRow,
    AliasRow,
    ComponentRow,
    PipelineRow,
    LineageRunRow,
    EdgeRow,
)
