"""Where the scheduler's lease is kept: a PostgreSQL advisory lock held by a connection of
its own, or, on SQLite, nowhere (one scheduler runs on a file: its lease is its own)."""

import asyncio
import logging
import os
import socket
from typing import Protocol

import asyncpg  # type: ignore[import-untyped]  # no stubs, no py.typed
from sqlalchemy.engine.url import make_url

from services.scheduler import lease
from shared.db import is_sqlite

log = logging.getLogger(__name__)

# The advisory lock's two keys: boxops' leases, and the schema it leads (each its own).
_TAKE = "SELECT pg_try_advisory_lock(hashtext('boxops.lease'), hashtext($1))"
_HOLDS = """SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
    AND pid = pg_backend_pid() AND classid::int = hashtext('boxops.lease')
    AND objid::int = hashtext($1)"""
# PostgreSQL lets a session's locks go when it notices the session's peer gone: at once for
# a process that died (its socket is closed), after these for a host that went silent.
_KEEPALIVES = {
    "tcp_keepalives_idle": str(lease.KEEPALIVE_IDLE_S),
    "tcp_keepalives_interval": str(lease.KEEPALIVE_INTERVAL_S),
    "tcp_keepalives_count": str(lease.KEEPALIVE_COUNT),
    "tcp_user_timeout": str(lease.USER_TIMEOUT_MS),
}


class Lease(Protocol):
    async def take(self, *, within: float) -> bool:
        """Take the lease if no one holds it; whether it is ours."""

    async def confirm(self, *, within: float) -> bool:
        """Whether the lease is still ours, answered within `within` seconds."""

    async def release(self) -> None:
        """Let the lease go (a follower may take it at once)."""


class SoleLease:
    """The lease of the only scheduler of a SQLite file: always its own."""

    async def take(self, *, within: float) -> bool:
        return True

    async def confirm(self, *, within: float) -> bool:
        return True

    async def release(self) -> None:
        return None


class AdvisoryLease:
    """An advisory lock on `name`, held by a connection of its own for as long as it lives.
    The connection is named for its holder: `pg_stat_activity` shows who leads."""

    def __init__(self, url: str, name: str, holder: str) -> None:
        self.dsn = make_url(url).set(drivername="postgresql").render_as_string(False)
        self.name = name
        self.settings = _KEEPALIVES | {"application_name": f"boxops {name} {holder}"[:63]}
        self.connection: asyncpg.Connection | None = None

    async def take(self, *, within: float) -> bool:
        try:
            async with asyncio.timeout(within):
                if self.connection is None or self.connection.is_closed():
                    self.connection = await asyncpg.connect(
                        self.dsn, server_settings=self.settings, timeout=within
                    )
                return bool(await self.connection.fetchval(_TAKE, self.name))
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            log.warning("the scheduler lease could not be tried: %s", error)
            await self._drop()
            return False

    async def confirm(self, *, within: float) -> bool:
        if self.connection is None:
            return False
        try:
            async with asyncio.timeout(within):
                if await self.connection.fetchval(_HOLDS, self.name) == 1:
                    return True
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            log.warning("the scheduler lease could not be confirmed: %s", error)
        # Kept until `release`: the lock, if the session still holds it, is let go only
        # once the leader's work has stopped.
        return False

    async def release(self) -> None:
        await self._drop()

    async def _drop(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.terminate()  # no wait on a connection that may not answer


def lease_for(url: str, schema: str, instance: str = "") -> Lease:
    """The lease of the schedulers sharing this database (and schema); `instance` names
    this one (by default its host and process id)."""
    if is_sqlite(url):
        return SoleLease()
    holder = instance or f"{socket.gethostname()}:{os.getpid()}"
    return AdvisoryLease(url, f"scheduler:{schema}", holder)
