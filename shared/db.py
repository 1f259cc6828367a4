"""Async engines for SQLite (one file per service) and PostgreSQL (one schema per service)."""

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, DateTime, TypeDecorator, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import DataError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def starts_with(column: Any, prefix: str) -> ColumnElement[bool]:
    """`column LIKE 'prefix%'` with the prefix taken literally: a `%` or `_` a client sends
    (`?prefix=%`) matches itself, not everything. Every prefix filter goes through here."""
    return column.startswith(prefix, autoescape=True)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(url: str, schema: str) -> AsyncEngine:
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        pool_size=10,
        connect_args={"server_settings": {"search_path": schema}},
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers go on while the one writer commits; NORMAL sync is durable in WAL mode
    # against process crashes, which is what a service restart is.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def wait_for_database(engine: AsyncEngine, *, timeout: float = 30.0) -> None:
    """Retry until the database answers: in compose, services start before PostgreSQL is up."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            return
        except OSError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)


def refused_value(error: BaseException) -> bool:
    """Whether the database refused a value being written (PostgreSQL: a NUL in text, a
    number out of its column's range, SQLSTATE class 22; SQLite, while binding: an integer
    past 64 bits, a lone surrogate). Unlike a lost connection or a replica's race, the same
    write fails every time."""
    if isinstance(error, DataError | OverflowError | UnicodeEncodeError):
        return True
    sqlstate = getattr(getattr(error, "orig", None), "sqlstate", None) or ""
    return isinstance(error, DBAPIError) and sqlstate.startswith("22")
