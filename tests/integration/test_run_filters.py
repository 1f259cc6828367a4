"""Runs filtered by component or pipeline: `%` and `_` in the filter are taken literally."""

from dataclasses import replace

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scheduler import listing, store
from services.scheduler.intake import base_run
from shared.bus import now
from shared.events import RunRequested
from shared.queries import RunList


async def test_a_component_filter_matches_its_name_not_a_pattern(
    outbox_sessions: async_sessionmaker[AsyncSession],
) -> None:
    runs = [
        replace(base_run(f"r{i}", RunRequested(command=["true"]), now()), component=component)
        for i, component in enumerate(("a_b@1", "axb@1", "a_b@2"))
    ]
    async with outbox_sessions.begin() as session:
        await store.save_all(session, runs, now=now(), new=[run.id for run in runs])

    async def matching(component: str) -> set[str]:
        async with outbox_sessions() as session:
            found = await listing.page(session, RunList(component=component, limit=10))
        return {row.id for row, _ in found}

    assert await matching("a_b") == {"r0", "r2"}
    assert await matching("a_b@1") == {"r0"}
    assert await matching("%") == set()
    assert await matching("_") == set()
    assert await matching("a%") == set()
