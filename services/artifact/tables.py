"""The artifact service's tables: blobs, uploads in progress, named keys."""

from datetime import datetime

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from shared.db import UTCDateTime
from shared.metadata import service_metadata, stored_default


class BlobRow(SQLModel, table=True):
    __tablename__ = "blobs"

    sha256: str = Field(primary_key=True)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    name: str | None = None
    media_type: str | None = None
    preview_kind: str | None = None
    preview_status: str = stored_default("none")
    created_at: datetime = Field(sa_type=UTCDateTime)
    location: str | None = None  # the store's key of the bytes, when not their content key


class UploadRow(SQLModel, table=True):
    __tablename__ = "uploads"

    id: str = Field(primary_key=True)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    sha256: str | None = None
    name: str | None = None
    media_type: str | None = None
    multipart_id: str | None = None
    part_bytes: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


class NameRow(SQLModel, table=True):
    __tablename__ = "names"

    key: str = Field(primary_key=True)
    sha256: str = Field(index=True)
    updated_at: datetime = Field(sa_type=UTCDateTime)


# What this service's migrations build (tests/integration/test_migrations.py holds them to it).
METADATA = service_metadata(BlobRow, UploadRow, NameRow)
