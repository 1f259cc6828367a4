"""Series outlines (outline.py) in the database: folded in once a batch as the scheduler
writes metric points, never a point at a time, and read by a chart instead of the points."""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.scheduler.listed import MetricValues
from services.scheduler.outline import (
    Axis,
    Buckets,
    Extremes,
    Outline,
    Point,
    Ranked,
    coarsen,
    extend,
    fold,
    microseconds,
)
from services.scheduler.tables import BucketRow, OutlineRow

Key = tuple[str, str, Axis]  # run, metric, axis
POINT = ("value", "us", "id", "step")  # a Point's fields, in its order
OUTLINES: Any = OutlineRow.__table__  # type: ignore[attr-defined]
BUCKETS: Any = BucketRow.__table__  # type: ignore[attr-defined]


async def keep_outlines(connection: AsyncConnection, rows: Sequence[MetricValues]) -> None:
    """Fold a batch of points, each stored for the first time, into their series' outlines:
    a row written a series and axis, and one a bucket the batch falls in."""
    series = _by_series(rows)
    if not series:
        return
    stored = await _outlines(connection, {run_id for run_id, _, _ in series})
    outlines: dict[Key, Outline] = {}
    buckets: list[tuple[Any, ...]] = []
    for key, points in series.items():
        axis, old = key[2], stored.get(key)
        outlines[key] = new = extend(axis, old, points)
        if old is not None and new.shift > old.shift:  # wider buckets: once a doubling
            await _coarsen(connection, key, new.shift - old.shift)
        buckets += _rows(key, fold(axis, points, new.shift))
    await _save_outlines(connection, outlines)
    await _fold(connection, buckets)


async def read_outlines(connection: AsyncConnection, run_id: str, name: str) -> dict[Axis, Outline]:
    """A metric's outline along each axis it has points on."""
    query = sa.select(OUTLINES).where(OUTLINES.c.run_id == run_id, OUTLINES.c.name == name)
    rows = (await connection.execute(query)).mappings().all()
    return {row["axis"]: _outline(row) for row in rows}


async def read_buckets(connection: AsyncConnection, key: Key) -> Buckets:
    """The extremes of each of a series' buckets."""
    roles = [BUCKETS.c[f"{role}_{f}"] for role in ("low", "high") for f in POINT]
    query = sa.select(BUCKETS.c.bucket, *roles).where(*_of(BUCKETS, key))
    rows = (await connection.execute(query)).all()
    return {row[0]: Extremes(Point._make(row[1:5]), Point._make(row[5:])) for row in rows}


def _by_series(rows: Sequence[MetricValues]) -> dict[Key, list[Ranked]]:
    metrics: dict[tuple[str, str], list[Ranked]] = {}
    for point_id, run_id, name, step, value, at in rows:
        point = (value, microseconds(at), point_id, step)
        metrics.setdefault((run_id, name), []).append(point)
    series: dict[Key, list[Ranked]] = {}
    for (run_id, name), points in metrics.items():
        series[run_id, name, "time"] = points
        stepped = [p for p in points if p[3] is not None]
        if stepped:
            series[run_id, name, "step"] = stepped
    return series


async def _outlines(connection: AsyncConnection, run_ids: set[str]) -> dict[Key, Outline]:
    if connection.dialect.name != "sqlite":
        # One writer a run's outlines at a time, new ones too (a row lock cannot guard a row
        # not yet written): each is read, extended and written whole. In one order: no
        # deadlock. SQLite has one writer anyway.
        for run_id in sorted(run_ids):
            await connection.execute(
                sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(run_id)))
            )
    query = sa.select(OUTLINES).where(OUTLINES.c.run_id.in_(sorted(run_ids)))
    rows = (await connection.execute(query)).mappings().all()
    return {(row["run_id"], row["name"], row["axis"]): _outline(row) for row in rows}


def _outline(row: Any) -> Outline:
    first, last = (Point._make(row[f"{role}_{f}"] for f in POINT) for role in ("first", "last"))
    return Outline(row["shift"], row["count"], first, last)


async def _save_outlines(connection: AsyncConnection, outlines: dict[Key, Outline]) -> None:
    rows = [
        {
            **_keyed(key),
            "shift": o.shift,
            "count": o.count,
            **_point("first", o.first),
            **_point("last", o.last),
        }
        for key, o in outlines.items()
    ]
    insert = _upsert(connection.dialect.name)(OUTLINES)
    changed = {c: insert.excluded[c] for c in rows[0] if c not in ("run_id", "name", "axis")}
    upsert = insert.on_conflict_do_update(index_elements=["run_id", "name", "axis"], set_=changed)
    await connection.execute(upsert, rows)


async def _coarsen(connection: AsyncConnection, key: Key, by: int) -> None:
    """A series' buckets replaced by ones 2**by times wider."""
    wider = coarsen(await read_buckets(connection, key), by)
    await connection.execute(sa.delete(BUCKETS).where(*_of(BUCKETS, key)))
    await _fold(connection, _rows(key, wider))


async def _fold(connection: AsyncConnection, buckets: list[tuple[Any, ...]]) -> None:
    """Fold buckets' extremes (each bucket once) into those stored: of each bucket the lower
    low and the higher high are kept (by value, then time, then id: as Points compare).
    Straight to the driver, as the points are: SQLAlchemy's binding of each row costs more;
    on PostgreSQL one statement, its columns as arrays."""
    if not buckets:
        return
    if connection.dialect.name == "sqlite":
        await connection.exec_driver_sql(FOLD_SQLITE, buckets)
        return
    columns = tuple(list(column) for column in zip(*buckets, strict=True))
    await connection.exec_driver_sql(FOLD_PG, columns)


def _folded(role: str, better: str) -> str:
    def ranked(table: str) -> str:
        return ", ".join(f"{table}.{role}_{f}" for f in ("value", "us", "id"))

    stored = "run_metric_buckets"
    kept = f"({ranked('excluded')}) {better} ({ranked(stored)})"
    return ", ".join(
        f"{role}_{f} = CASE WHEN {kept} THEN excluded.{role}_{f} ELSE {stored}.{role}_{f} END"
        for f in POINT
    )


BUCKET = ("run_id", "name", "axis", "bucket", *(f"{r}_{f}" for r in ("low", "high") for f in POINT))
POINT_TYPES = ("float8", "bigint", "varchar", "integer")
PG_TYPES = ("varchar", "varchar", "varchar", "bigint", *POINT_TYPES, *POINT_TYPES)
FOLDING = (
    f"INSERT INTO run_metric_buckets ({', '.join(BUCKET)}) {{rows}} "
    f"ON CONFLICT (run_id, name, axis, bucket) DO UPDATE SET "
    f"{_folded('low', '<')}, {_folded('high', '>')}"
)
# Only placeholders are formatted in; the values go as parameters.
FOLD_SQLITE = FOLDING.format(rows=f"VALUES ({', '.join('?' for _ in BUCKET)})")
FOLD_PG = FOLDING.format(
    rows=f"SELECT * FROM unnest({', '.join(f'${n}::{t}[]' for n, t in enumerate(PG_TYPES, 1))})"  # noqa: S608
)


def _rows(key: Key, buckets: Buckets) -> list[tuple[Any, ...]]:
    return [(*key, bucket, *low, *high) for bucket, (low, high) in buckets.items()]


def _keyed(key: Key) -> dict[str, str]:
    return dict(zip(("run_id", "name", "axis"), key, strict=True))


def _point(role: str, p: Point) -> dict[str, Any]:
    return {
        f"{role}_id": p.id,
        f"{role}_step": p.step,
        f"{role}_us": p.us,
        f"{role}_value": p.value,
    }


def _of(table: Any, key: Key) -> list[sa.ColumnElement[bool]]:
    return [table.c.run_id == key[0], table.c.name == key[1], table.c.axis == key[2]]


def _upsert(dialect: str) -> Any:
    return sqlite_insert if dialect == "sqlite" else pg_insert
