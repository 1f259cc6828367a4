"""The gateway's tables: API tokens (each kept as the sha256 of its text), generic hooks
and the deliveries its hooks remember."""

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


class HookRow(SQLModel, table=True):
    """A generic hook. Its secret is kept as given: checking an HMAC takes the secret
    itself, not a hash of it (the gateway's database is its own, like its settings)."""

    __tablename__ = "hooks"

    name: str = Field(primary_key=True)
    secret: str
    subject: str
    mapping: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime)


class DeliveryRow(SQLModel, table=True):
    """What a hook received, remembered for a while: a generic hook's delivery ids and
    signatures (replays), an alert's event ids (repeats of a notification)."""

    __tablename__ = "hook_deliveries"

    hook: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    seen_at: datetime = Field(sa_type=UTCDateTime, index=True)


METADATA = MetaData()
for _table in (TokenRow, HookRow, DeliveryRow):
    _table.__table__.to_metadata(METADATA)  # type: ignore[union-attr]
