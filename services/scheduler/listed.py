"""What the run list filters and sorts by, kept beside each run as it is saved and as its
metrics arrive: its inputs, its searchable text, when it ran, each metric's last value."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scheduler.domain import Run, RunState, Transition
from services.scheduler.tables import LastMetricRow, RunInputRow, RunRow, RunTextRow
from shared.runs import TERMINAL

MetricValues = tuple[str, str, str, int | None, float, datetime]  # id, run, name, step, value, at


def stamp_times(row: RunRow, history: Iterable[Transition]) -> None:
    """When the run last began running and when it ended, from its new transitions."""
    for step in history:
        if step.state is RunState.RUNNING:
            row.running_at, row.ended_at = step.at, None
        elif step.state in TERMINAL:
            row.ended_at = step.at
    ran = row.running_at is not None and row.ended_at is not None
    row.duration_s = (row.ended_at - row.running_at).total_seconds() if ran else None  # type: ignore[operator]


async def record_inputs(session: AsyncSession, runs: list[Run]) -> None:
    """Record the inputs of runs that are new or read something else now, a row each."""
    rows = [
        {"run_id": run.id, "input": name, **ref.model_dump(include={"type", "name", "version"})}
        for run in runs
        for name, ref in run.inputs.items()
    ]
    await _replace(session, RunInputRow, rows, [run.id for run in runs])


async def _replace(
    session: AsyncSession, table: Any, rows: list[dict[str, Any]], run_ids: list[str] | None = None
) -> None:
    """The rows of these runs in a table kept beside theirs, replaced by `rows`."""
    run_ids = [row["run_id"] for row in rows] if run_ids is None else run_ids
    if not run_ids:
        return
    connection = await session.connection()
    await connection.execute(sa.delete(table).where(col(table.run_id).in_(run_ids)))
    if rows:
        await connection.execute(sa.insert(table), rows)


async def record_texts(session: AsyncSession, texts: dict[str, str]) -> None:
    """Each run's searchable text (services/scheduler/texts.py), where it changed."""
    await _replace(session, RunTextRow, [{"run_id": i, "text": t} for i, t in texts.items()])


async def keep_last_metrics(session: AsyncSession, rows: Sequence[MetricValues]) -> None:
    """Fold a batch of points into each run's last value of each metric: one row written a
    run and metric a batch, kept only if no later point (by step, then time) is stored."""
    last: dict[tuple[str, str], dict[str, Any]] = {}
    for _, run_id, name, step, value, at in rows:
        seen = last.get((run_id, name))
        if seen is None or _later((step, at), (seen["step"], seen["at"])):
            last[run_id, name] = dict(run_id=run_id, name=name, value=value, step=step, at=at)
    if not last:
        return
    connection = await session.connection()
    insert = _upsert(connection.dialect.name)(LastMetricRow).values(list(last.values()))
    new, old = insert.excluded, LastMetricRow.__table__.c  # type: ignore[attr-defined]
    newer = sa.or_(
        sa.func.coalesce(new.step, -1) > sa.func.coalesce(old.step, -1),
        sa.and_(sa.func.coalesce(new.step, -1) == sa.func.coalesce(old.step, -1), new.at >= old.at),
    )
    await connection.execute(
        insert.on_conflict_do_update(
            index_elements=["run_id", "name"],
            set_={"value": new.value, "step": new.step, "at": new.at},
            where=newer,
        )
    )


def _later(a: tuple[int | None, datetime], b: tuple[int | None, datetime]) -> bool:
    return (a[0] if a[0] is not None else -1, a[1]) >= (b[0] if b[0] is not None else -1, b[1])


def _upsert(dialect: str) -> Any:
    return sqlite_insert if dialect == "sqlite" else pg_insert
