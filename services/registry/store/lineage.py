"""Lineage edges and the runs they pass through."""

from collections.abc import Iterable, Sequence

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.registry.store import insert_ignoring_duplicates
from services.registry.tables import EdgeRow, LineageRunRow


async def add_edges(session: AsyncSession, edges: Iterable[tuple[str, str]]) -> None:
    rows = [{"src": src, "dst": dst} for src, dst in sorted(set(edges))]
    await insert_ignoring_duplicates(session, EdgeRow, rows)


async def add_run(session: AsyncSession, row: LineageRunRow) -> None:
    await insert_ignoring_duplicates(session, LineageRunRow, [row.model_dump()])


async def neighbours(
    session: AsyncSession, keys: Sequence[str], *, upstream: bool
) -> dict[str, list[str]]:
    """For each key, the nodes one edge away in the direction asked (every key is present)."""
    found: dict[str, list[str]] = {key: [] for key in keys}
    if not keys:
        return found
    near, far = (EdgeRow.dst, EdgeRow.src) if upstream else (EdgeRow.src, EdgeRow.dst)
    query = select(near, far).where(col(near).in_(keys))
    for here, there in (await session.exec(query)).all():
        found[here].append(there)
    return found


async def runs(session: AsyncSession, run_ids: Sequence[str]) -> dict[str, LineageRunRow]:
    if not run_ids:
        return {}
    query = select(LineageRunRow).where(col(LineageRunRow.run_id).in_(run_ids))
    return {row.run_id: row for row in (await session.exec(query)).all()}


async def degrees(session: AsyncSession, keys: Sequence[str]) -> dict[str, tuple[int, int]]:
    """For each key, how many edges come into it and go out of it."""
    counts = {key: [0, 0] for key in keys}
    if not keys:
        return {}
    for end, slot in ((EdgeRow.dst, 0), (EdgeRow.src, 1)):
        query = select(end, func.count()).where(col(end).in_(keys)).group_by(end)
        for key, count in (await session.exec(query)).all():
            counts[key][slot] = count
    return {key: (into, out) for key, (into, out) in counts.items()}
