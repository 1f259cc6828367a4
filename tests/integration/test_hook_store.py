"""What the hooks remember, on SQLite and PostgreSQL: a delivery is refused again within
its window and taken again past it, and a hook's memory goes with the hook."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.gateway import hook_store
from services.gateway.hook_store import Hook
from shared.db import create_engine, sessionmaker
from shared.migrate import upgrade

T0 = datetime(2026, 12, 7, 12, tzinfo=UTC)
WINDOW = timedelta(minutes=5)


@pytest.fixture
async def sessions(db: tuple[str, str]) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    await upgrade(*db, Path("services/gateway/migrations/versions"))
    engine = create_engine(*db)
    yield sessionmaker(engine)
    await engine.dispose()


async def test_a_key_is_refused_within_its_window_and_taken_past_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        assert await hook_store.remember(session, "h", ["d-1", "s-1"], T0, T0 - WINDOW)
        later = T0 + timedelta(minutes=1)
        assert not await hook_store.remember(session, "h", ["d-2", "s-1"], later, later - WINDOW)
        assert await hook_store.seen(session, "h", ["d-1", "d-2"], T0) == {"d-1"}  # d-2: not
        assert await hook_store.remember(session, "other", ["d-1"], later, later - WINDOW)
        past = T0 + 2 * WINDOW
        assert await hook_store.remember(session, "h", ["d-1", "s-1"], past, past - WINDOW)


async def test_a_forgotten_key_and_a_deleted_hooks_memory_are_gone(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    hook = Hook("h", "s" * 32, "ext.hook.h", {"repo": "repository.full_name"}, T0)
    async with sessions() as session:
        await hook_store.add(session, hook)
        assert await hook_store.get(session, "h") == hook
        with pytest.raises(hook_store.NameTaken):
            await hook_store.add(session, Hook("h", "t" * 32, "ext.hook.h", {}, T0))
    async with sessions() as session:
        await hook_store.remember(session, "h", ["d-1", "d-2"], T0, T0 - WINDOW)
        await hook_store.forget(session, "h", ["d-1"])
        assert await hook_store.seen(session, "h", ["d-1", "d-2"], T0 - WINDOW) == {"d-2"}
        assert await hook_store.remove(session, "h")
        assert await hook_store.seen(session, "h", ["d-2"], T0 - WINDOW) == set()
        assert await hook_store.get(session, "h") is None
        assert not await hook_store.remove(session, "h")
