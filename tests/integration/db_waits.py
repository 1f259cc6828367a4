"""Proving a database statement waits for another transaction, without sleeping."""

import asyncio
from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession


async def waits_for(waiter: AsyncSession, holder: AsyncSession) -> Callable[[], Awaitable[bool]]:
    """A check, true once `waiter`'s next statement waits for `holder`'s transaction. SQLite
    cannot say whom a statement waits for: there, true once the statement has begun."""
    raw = await (await waiter.connection()).get_raw_connection()
    if waiter.bind.dialect.name == "sqlite":
        began = asyncio.Event()
        loop = asyncio.get_running_loop()
        await raw.driver_connection.set_trace_callback(  # called from the driver's thread
            lambda statement: loop.call_soon_threadsafe(began.set)
        )

        async def started() -> bool:
            return began.is_set()

        return started
    held = await (await holder.connection()).get_raw_connection()
    pids = {"waiter": raw.driver_connection.get_server_pid()}
    pids["holder"] = held.driver_connection.get_server_pid()

    async def blocked() -> bool:
        query = sa.text("SELECT CAST(:holder AS int) = ANY(pg_blocking_pids(:waiter))")
        return bool((await (await holder.connection()).execute(query, pids)).scalar())

    return blocked
