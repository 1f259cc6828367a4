"""The gateway's one table: API tokens, each kept as the sha256 of its text."""

from datetime import datetime

from sqlalchemy import JSON, Column, MetaData
from sqlmodel import Field, SQLModel

from shared.db import UTCDateTime


class TokenRow(SQLModel, table=True):
    __tablename__ = "api_tokens"

    name: str = Field(primary_key=True)
    digest: str = Field(unique=True, description="sha256 of the token, hex: never the token.")
    scopes: list[str] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


METADATA = MetaData()
TokenRow.__table__.to_metadata(METADATA)  # type: ignore[attr-defined]
