"""The run list: runs filtered, sorted by a column or a metric's last value, a keyset page
at a time (each page starts after the last run of the one before, ties broken by id, so a
page costs the same at any depth and no run is skipped or shown twice while runs arrive).

A sort key a run may lack (a metric it never logged, a start it never had) splits the list
in two: the runs that have it, in its order, then the others, newest first."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scheduler.tables import LastMetricRow, RunInputRow, RunRow, RunTextRow
from services.scheduler.texts import searchable
from shared.db import starts_with
from shared.queries import RunCursor, RunList
from shared.run_sorts import COLUMNS, DESCENDING_FIRST, Sort, parse_sort

TIMES = {name for name in COLUMNS if name in DESCENDING_FIRST and name != "duration"}


async def page(session: AsyncSession, query: RunList) -> list[tuple[RunRow, dict[str, float]]]:
    """The runs of one page, each with the last values of the metrics the query asks for."""
    sort = parse_sort(query.sort)
    base = filtered(select(RunRow), query)
    after = query.after
    rows: list[RunRow] = []
    if after is None or after.value is not None or not sort.nullable:
        rows = await _with_key(session, base, sort, after, query.limit)
    if sort.nullable and len(rows) < query.limit:
        rest = after if after is not None and after.value is None else None
        rows += await _without_key(session, base, sort, rest, query.limit - len(rows))
    wanted = {*query.metrics, *([sort.metric] if sort.metric else [])}
    latest = await _latest(session, [row.id for row in rows], wanted)
    return [(row, latest.get(row.id, {})) for row in rows]


def filtered(query: Any, asked: RunList) -> Any:
    for name in ("state", "trigger", "parent_id"):
        if getattr(asked, name):
            query = query.where(col(getattr(RunRow, name)) == getattr(asked, name))
    for name in ("component", "pipeline"):  # a name, or a name@version
        value = getattr(asked, name)
        if value:
            column = col(getattr(RunRow, name))
            query = query.where(starts_with(column, f"{value}@") | (column == value))
    if asked.monitor:  # rare enough not to keep a column of its own
        query = query.where(col(RunRow.cause)["monitor"].as_string() == asked.monitor)
    query = _created(query, asked)
    if asked.text:
        query = query.where(_text(asked.text))
    if asked.dataset:
        query = query.where(col(RunRow.id).in_(_reading(asked.dataset, asked.dataset_version)))
    return query


def _created(query: Any, asked: RunList) -> Any:
    created = col(RunRow.created_at)
    if asked.since:
        query = query.where(created >= asked.since)
    if asked.before:
        query = query.where(created < asked.before)
    if asked.until:
        query = query.where(created <= asked.until)
    return query


def _text(text: str) -> Any:
    """The id's start, or anywhere in the component, pipeline, reason or command: literally
    (a `%` or `_` matches itself), in any case. Looked for in each run's short searchable
    text (run_texts), which a scan reads far faster than the runs themselves."""
    found = select(RunTextRow.run_id).where(
        col(RunTextRow.text).contains(searchable(text), autoescape=True)
    )
    # `id || ''`: not the id's index, so SQLite walks the runs in the page's order and stops
    # at a page full, checking each against the matches found once (a common word);
    # going by the id it looked up every match and sorted them all.
    return starts_with(col(RunRow.id), text) | col(RunRow.id).concat("").in_(found)


def _reading(dataset: str, version: int | None) -> Any:
    inputs = select(RunInputRow.run_id).where(
        RunInputRow.type == "dataset", RunInputRow.name == dataset
    )
    return inputs.where(RunInputRow.version == version) if version is not None else inputs


def _key(sort: Sort) -> Any:
    if sort.metric:
        return col(LastMetricRow.value)
    return col(getattr(RunRow, COLUMNS[sort.key]))


def _ordered(
    query: Any, key: Any, descending: bool, after: tuple[Any, str] | None, ident: Any = RunRow.id
) -> Any:
    if after is not None:
        given = sa.tuple_(sa.literal(after[0], key.type), sa.literal(after[1], ident.type))
        bound = sa.tuple_(key, ident), given
        query = query.where(bound[0] < bound[1] if descending else bound[0] > bound[1])
    order = (key.desc(), ident.desc()) if descending else (key.asc(), ident.asc())
    return query.order_by(*order)


async def _with_key(
    session: AsyncSession, base: Any, sort: Sort, after: RunCursor | None, limit: int
) -> list[RunRow]:
    key = _key(sort)
    if sort.metric:
        base = base.join(
            LastMetricRow,
            sa.and_(col(LastMetricRow.run_id) == RunRow.id, col(LastMetricRow.name) == sort.metric),
        )
    elif sort.nullable:
        base = base.where(key.is_not(None))
    bound = (_value(sort, after), after.id) if after is not None else None
    # A metric's run id is the same as the run's, but only its own follows its index's order.
    ident = LastMetricRow.run_id if sort.metric else RunRow.id
    query = _ordered(base, key, sort.descending, bound, col(ident)).limit(limit)
    return list((await session.exec(query)).all())


async def _without_key(
    session: AsyncSession, base: Any, sort: Sort, after: RunCursor | None, limit: int
) -> list[RunRow]:
    if sort.metric:
        has = select(LastMetricRow.run_id).where(
            col(LastMetricRow.run_id) == RunRow.id, col(LastMetricRow.name) == sort.metric
        )
        base = base.where(~has.exists())
    else:
        base = base.where(_key(sort).is_(None))
    bound = (after.created_at, after.id) if after is not None else None
    query = _ordered(base, col(RunRow.created_at), True, bound, col(RunRow.id)).limit(limit)
    return list((await session.exec(query)).all())


def _value(sort: Sort, after: RunCursor) -> Any:
    """The cursor's value as the sort key's column holds it."""
    if sort.key == "created":
        return after.created_at
    if sort.key in TIMES:
        return datetime.fromisoformat(str(after.value))
    if sort.metric or sort.key == "duration":
        return float(after.value)  # type: ignore[arg-type]
    return str(after.value)


async def _latest(
    session: AsyncSession, run_ids: Sequence[str], names: set[str]
) -> dict[str, dict[str, float]]:
    if not run_ids or not names:
        return {}
    query = select(LastMetricRow).where(
        col(LastMetricRow.run_id).in_(run_ids), col(LastMetricRow.name).in_(sorted(names))
    )
    latest: dict[str, dict[str, float]] = {}
    for row in (await session.exec(query)).all():
        latest.setdefault(row.run_id, {})[row.name] = row.value
    return latest
