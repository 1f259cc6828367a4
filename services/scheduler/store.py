"""Runs in the database: loading, saving with their transitions, queries."""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import TypeAdapter
from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm.util import identity_key
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scheduler import listed
from services.scheduler.domain import Run, RunState, RunSubstate, Transition
from services.scheduler.listed import MetricValues
from services.scheduler.tables import MetricRow, RunRow, TransitionRow
from services.scheduler.texts import run_text
from shared.events import (
    Cause,
    DeclaredOutput,
    FileEntry,
    InputRef,
    Resources,
    RunArtifact,
    RunOutput,
    RunUsage,
)
from shared.queries import MetricSummary
from shared.runs import ACTIVE

_INPUTS = TypeAdapter(dict[str, InputRef])
_DECLARED = TypeAdapter(dict[str, DeclaredOutput])
_OUTPUTS = TypeAdapter(dict[str, RunOutput])
_SIMPLE = {f.name for f in fields(Run)} - {
    "command",
    "resources",
    "cause",
    "inputs",
    "declared_outputs",
    "outputs",
    "state",
    "substate",
    "history",
    "artifacts",
    "logs",
    "usage",
    "devices",
}
_ARTIFACTS = TypeAdapter(tuple[RunArtifact, ...])


def to_domain(row: RunRow, history: Sequence[TransitionRow] = ()) -> Run:
    return Run(
        **{name: getattr(row, name) for name in _SIMPLE},
        command=tuple(row.command),
        resources=Resources.model_validate(row.resources),
        cause=Cause.model_validate(row.cause),
        inputs=_INPUTS.validate_python(row.inputs),
        declared_outputs=_DECLARED.validate_python(row.declared_outputs),
        outputs=_OUTPUTS.validate_python(row.outputs),
        artifacts=_ARTIFACTS.validate_python(row.artifacts),
        logs=FileEntry.model_validate(row.logs) if row.logs else None,
        usage=RunUsage.model_validate(row.usage) if row.usage else None,
        devices=tuple(row.devices or ()),
        state=RunState(row.state),
        substate=_substate(row.substate),
        history=tuple(
            Transition(RunState(t.state), _substate(t.substate), t.at, t.reason) for t in history
        ),
    )


def _columns(run: Run) -> dict[str, Any]:
    return {
        **{name: getattr(run, name) for name in _SIMPLE},
        "command": list(run.command),
        "resources": run.resources.model_dump(),
        "cause": run.cause.model_dump(mode="json", exclude_none=True),
        "trigger": run.cause.trigger,
        "inputs": _INPUTS.dump_python(run.inputs, mode="json"),
        "declared_outputs": _DECLARED.dump_python(run.declared_outputs, mode="json"),
        "outputs": _OUTPUTS.dump_python(run.outputs, mode="json"),
        "artifacts": _ARTIFACTS.dump_python(run.artifacts, mode="json"),
        "logs": run.logs.model_dump() if run.logs else None,
        "usage": run.usage.model_dump() if run.usage else None,
        "devices": list(run.devices),
        "state": run.state.value,
        "substate": _value(run.substate),
    }


def _substate(text: str | None) -> RunSubstate | None:
    return RunSubstate(text) if text else None


def _value(substate: RunSubstate | None) -> str | None:
    return substate.value if substate else None


async def load(session: AsyncSession, run_id: str) -> Run | None:
    """The run without its history: whatever history a domain step adds is new."""
    row = await session.get(RunRow, run_id)
    return to_domain(row) if row else None


async def load_with_history(session: AsyncSession, run_id: str) -> Run | None:
    row = await session.get(RunRow, run_id)
    if row is None:
        return None
    query = (
        select(TransitionRow).where(TransitionRow.run_id == run_id).order_by(col(TransitionRow.id))
    )
    return to_domain(row, (await session.exec(query)).all())


async def save_all(
    session: AsyncSession, runs: Iterable[Run], *, now: datetime, new: Collection[str] = ()
) -> None:
    """Upsert runs and insert their (new) history entries, in the caller's transaction.
    Rows this session loaded and runs known to be `new` need no look-up; one query finds
    which of the others exist, so a batch of new runs costs inserts only."""
    runs = list(runs)
    existing: dict[str, RunRow] = {}
    for run in runs:
        row = session.identity_map.get(identity_key(RunRow, run.id))
        if isinstance(row, RunRow):
            existing[run.id] = row
    unknown = [run.id for run in runs if run.id not in existing and run.id not in new]
    if unknown:
        query = select(RunRow).where(col(RunRow.id).in_(unknown))
        existing |= {row.id: row for row in (await session.exec(query)).all()}
    read_other: list[Run] = []
    texts: dict[str, str] = {}
    for run in runs:
        row = existing.get(run.id)
        text = run_text(run)
        if row is None:
            row = RunRow(**_columns(run), updated_at=now)
            session.add(row)
            read_other.append(run)
            texts[run.id] = text
        else:
            if row.inputs != _INPUTS.dump_python(run.inputs, mode="json"):
                read_other.append(run)
            if run_text(row) != text:
                texts[run.id] = text
            for name, value in _columns(run).items():
                setattr(row, name, value)
            row.updated_at = now
        listed.stamp_times(row, run.history)
    await listed.record_inputs(session, read_other)
    await listed.record_texts(session, texts)
    history = [
        {
            "run_id": run.id,
            "state": t.state.value,
            "substate": _value(t.substate),
            "at": t.at,
            "reason": t.reason,
        }
        for run in runs
        for t in run.history
    ]
    if history:
        # One executemany: as objects, the ORM inserted them one at a time to learn each
        # id, which nothing reads.
        connection = await session.connection()
        await connection.execute(sa.insert(TransitionRow), history)


async def _runs(session: AsyncSession, query: Any) -> list[Run]:
    return [to_domain(row) for row in (await session.exec(query)).all()]


async def waiting(session: AsyncSession, *, limit: int) -> list[Run]:
    """Runs waiting to be placed (queued, or back for a retry), first in line first."""
    query = (
        select(RunRow)
        .where(RunRow.state == RunState.PENDING.value)
        .where(col(RunRow.substate).in_([RunSubstate.QUEUED.value, RunSubstate.RETRYING.value]))
        .where(RunRow.kind != "pipeline")
        .order_by(col(RunRow.priority).desc(), col(RunRow.created_at))
        .limit(limit)
    )
    return await _runs(session, query)


async def active(session: AsyncSession) -> list[Run]:
    """Runs that are pending or running (pipelines included)."""
    return await _runs(session, select(RunRow).where(col(RunRow.state).in_(sorted(ACTIVE))))


async def active_states(session: AsyncSession) -> list[Any]:
    """Of each pending or running run, just what says whether a tick has work with it."""
    names = ("kind", "state", "substate", "executor_id", "timeout_s", "started_at", "stop_reason")
    columns = [col(getattr(RunRow, name)) for name in names]
    query = sa.select(*columns).where(col(RunRow.state).in_(sorted(ACTIVE)))
    return list((await session.exec(query)).all())  # type: ignore[call-overload]


async def children(session: AsyncSession, parent_id: str) -> list[Run]:
    query = select(RunRow).where(RunRow.parent_id == parent_id).order_by(col(RunRow.created_at))
    return await _runs(session, query)


async def cached(session: AsyncSession, key: str) -> Run | None:
    query = (
        select(RunRow)
        .where(RunRow.cache_key == key)
        .where(RunRow.state == RunState.COMPLETED.value)
        .order_by(col(RunRow.created_at).desc())
        .limit(1)
    )
    runs = await _runs(session, query)
    return runs[0] if runs else None


async def add_metrics(session: AsyncSession, rows: list[MetricValues]) -> list[MetricValues]:
    """Insert a batch; points seen before (same id) are skipped, not doubled. Returns the
    points stored now, each once (their series' outlines count them)."""
    if not rows:
        return []
    connection = await session.connection()
    if connection.dialect.name != "sqlite":
        return await _add_pg_metrics(connection, rows)
    before = (await connection.exec_driver_sql("SELECT max(rowid) FROM run_metrics")).scalar()
    # Straight to the driver's executemany: SQLAlchemy binds every row's parameters in
    # Python, which at tens of thousands of points a second was most of the writer's time.
    times = _sqlite_times([row[5] for row in rows])
    values = [(*row[:5], at) for row, at in zip(rows, times, strict=True)]
    added = await connection.exec_driver_sql(
        "INSERT INTO run_metrics (id, run_id, name, step, value, at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        values,
    )
    if added.rowcount == len(rows):
        return rows
    # Some were there before, or twice in the batch: the rows added are the new rowids.
    new = await connection.exec_driver_sql(
        "SELECT id FROM run_metrics WHERE rowid > ?", (before or 0,)
    )
    return _only(rows, {row[0] for row in new})


async def _add_pg_metrics(
    connection: AsyncConnection, rows: list[MetricValues]
) -> list[MetricValues]:
    """PostgreSQL: one statement for the batch, its columns as arrays, saying which it added
    only if not all: one row back, not one a point."""
    columns = [list(column) for column in zip(*rows, strict=True)]
    added = await connection.exec_driver_sql(
        "WITH added AS (INSERT INTO run_metrics (id, run_id, name, step, value, at) "
        "SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::integer[], "
        "$5::float8[], $6::timestamptz[]) ON CONFLICT (id) DO NOTHING RETURNING id) "
        "SELECT CASE WHEN count(*) < $7 THEN coalesce(array_agg(id), '{}') END FROM added",
        (*columns, len(rows)),
    )
    ids = added.scalar()
    return rows if ids is None else _only(rows, set(ids))


def _only(rows: list[MetricValues], ids: set[str]) -> list[MetricValues]:
    """The rows with these ids, the first of each (a later copy was not stored)."""
    kept = []
    for row in rows:
        if row[0] in ids:
            ids.discard(row[0])
            kept.append(row)
    return kept


def _sqlite_times(ats: list[datetime]) -> list[str]:
    """As UTCDateTime binds them for SQLite: the text of the naive UTC time. pydantic writes
    a list of times as ISO text in a fifth of isoformat's time; a UTC time with microseconds
    (nearly all) is then cut to shape, any other takes the long way."""
    texts = to_jsonable_python(ats)
    return [
        f"{text[:10]} {text[11:26]}" if len(text) == 27 and text[26] == "Z" else _sqlite_utc(at)
        for text, at in zip(texts, ats, strict=True)
    ]


def _sqlite_utc(at: datetime) -> str:
    """As UTCDateTime binds it for SQLite: the text of the naive UTC time (naive: UTC)."""
    offset = at.utcoffset() if at.tzinfo is not None else None
    if offset:
        at = (at - offset).replace(tzinfo=None)
    return at.isoformat(" ", "microseconds")[:26]


async def metric_series(
    session: AsyncSession, run_id: str, points: int
) -> Sequence[sa.Row[Any, Any, Any, Any]]:
    """Each metric's (name, step, value, at) in order, at most `points` of each: a longer
    series is thinned to every k-th point, its last one kept."""
    name = col(MetricRow.name)
    ranked = (
        sa.select(
            name,
            col(MetricRow.step),
            col(MetricRow.value),
            col(MetricRow.at),
            sa.func.row_number()
            .over(partition_by=name, order_by=(col(MetricRow.step), col(MetricRow.at)))
            .label("i"),
            sa.func.count().over(partition_by=name).label("n"),
        )
        .where(col(MetricRow.run_id) == run_id)
        .subquery()
    )
    i, n = ranked.c.i, ranked.c.n
    every = (n + points - 2) // (points - 1)  # ceil(n / (points - 1)): the last one fits too
    query = (
        sa.select(ranked.c.name, ranked.c.step, ranked.c.value, ranked.c.at)
        .where(sa.or_(n <= points, (i - 1) % every == 0, i == n))
        .order_by(ranked.c.name, i)
    )
    return (await (await session.connection()).execute(query)).all()


async def metric_summary(session: AsyncSession, run_id: str) -> dict[str, MetricSummary]:
    """Last (by step, then time), min, max and count of each metric of a run, counted by
    the database: a run may have hundreds of thousands of points."""
    name, value, step = col(MetricRow.name), col(MetricRow.value), col(MetricRow.step)
    of_run = col(MetricRow.run_id) == run_id
    newest_step = sa.select(name, sa.func.max(sa.func.coalesce(step, -1))).where(of_run)
    ranked = (  # only the points at each metric's newest step are sorted, by time
        sa.select(
            name,
            value,
            step,
            sa.func.row_number()
            .over(partition_by=name, order_by=col(MetricRow.at).desc())
            .label("r"),
        )
        .where(of_run, sa.tuple_(name, sa.func.coalesce(step, -1)).in_(newest_step.group_by(name)))
        .subquery()
    )
    stats = sa.select(
        name,
        sa.func.count().label("n"),
        sa.func.min(value).label("lo"),
        sa.func.max(value).label("hi"),
    )
    connection = await session.connection()
    # Counted first: a point stored in between (SQLite reads outside a transaction) can
    # only add a newer last one.
    counted = (await connection.execute(stats.where(of_run).group_by(name))).all()
    last = ranked.c
    lasts = {
        row.name: row
        for row in await connection.execute(
            sa.select(last.name, last.value, last.step).where(last.r == 1)
        )
    }
    return {
        row.name: MetricSummary(
            last=lasts[row.name].value,
            min=row.lo,
            max=row.hi,
            count=row.n,
            last_step=lasts[row.name].step,
        )
        for row in counted
    }
