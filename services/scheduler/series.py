"""A metric's series read for a chart: from its outline (outline.py: a few thousand buckets'
extremes kept as its points were written), or, when its points are few or the buckets too
coarse for the points asked, thinned in the database from its points: of a run's 200,000
only the few hundred kept leave it (thinning.py says which), on SQLite and PostgreSQL."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scheduler.outline import Axis, covers, thin
from services.scheduler.outlined import read_buckets, read_outlines
from services.scheduler.tables import MetricRow
from services.scheduler.thinning import Slices, kept, slices

Row = sa.Row[*tuple[Any, ...]]
Query = sa.Select[*tuple[Any, ...]]
EPOCH_JULIAN_DAY = 2440587.5
MS_A_DAY = 86_400_000
ROWID = sa.literal_column("run_metrics.rowid", sa.Integer).label("rowid")


class Charted(Protocol):
    """A point as a chart shows it: a stored row, or one of an outline's points."""

    @property
    def step(self) -> int | None: ...
    @property
    def value(self) -> float: ...
    @property
    def at(self) -> datetime: ...


@dataclass(frozen=True)
class Series:
    total: int  # the metric's points
    count: int  # those on the axis (with a step, for the steps' axis)
    points: Sequence[Charted]  # in the axis' order


async def read_series(
    session: AsyncSession, run_id: str, name: str, axis: Axis, limit: int
) -> Series | None:
    """The metric's points along `axis`, at most `limit` of them; None if the run has no
    metric of that name."""
    connection = await session.connection()
    outlines = await read_outlines(connection, run_id, name)
    outline = outlines.get(axis)
    if outline is not None and outline.count > limit and covers(outline, axis, limit):
        buckets = await read_buckets(connection, (run_id, name, axis))
        points = thin(axis, outline, buckets.values(), limit)
        return Series(outlines["time"].count, outline.count, points)
    return await _from_points(connection, run_id, name, axis, limit)


async def _from_points(
    connection: AsyncConnection, run_id: str, name: str, axis: Axis, limit: int
) -> Series | None:
    """The series thinned from its points (`limit` too fine for its outline's buckets)."""
    x = _axis(axis, connection.dialect.name)
    # The bounds, and the first and last points, found by the stored column: only the
    # slices need each point's x computed (a time's, on SQLite, parsed from text).
    stored = col(MetricRow.step) if axis == "step" else col(MetricRow.at)
    of = sa.and_(col(MetricRow.run_id) == run_id, col(MetricRow.name) == name)
    bounds = sa.select(
        sa.func.count(), sa.func.count(stored), sa.func.min(stored), sa.func.max(stored)
    )
    total, count, first, last = (await connection.execute(bounds.where(of))).one()
    if not total:
        return None
    on_axis = sa.and_(of, stored.is_not(None))
    if count <= limit:
        query = _point(x).where(on_axis).order_by(stored, col(MetricRow.at))
        return Series(total, count, list((await connection.execute(query)).all()))
    at = col(MetricRow.at)
    ends = [
        _point(x).where(on_axis, stored == first).order_by(at).limit(1),
        _point(x).where(on_axis, stored == last).order_by(at.desc()).limit(1),
    ]
    cut = slices(_integer(first), _integer(last), limit)
    found: list[Row] = []
    for query in ends:
        found += (await connection.execute(query)).all()
    if connection.dialect.name == "sqlite":  # each slice's extremes, then their rows
        rowids = []
        for query in _extremes(x, on_axis, cut):
            rowids += [row.rowid for row in (await connection.execute(query)).all()]
        found += (await connection.execute(_point(x).where(ROWID.in_(rowids)))).all()
    else:
        places = (await connection.execute(_extreme_places(x, on_axis, cut))).all()
        tids = [
            f"({block:.0f},{item:.0f})" for low, high in places for _, block, item in (low, high)
        ]
        found += (await connection.execute(_point(x).where(_at_places(tids)))).all()
    return Series(total, count, kept(found, lambda p: (p.x, p.at), limit))


def _integer(bound: int | datetime | None) -> int:
    """A bound on the axis as its x: a step, or a time in ms since 1970."""
    if isinstance(bound, datetime):
        return round(bound.timestamp() * 1000)
    return bound or 0  # not None: more points on the axis than the limit


def _axis(axis: Axis, dialect: str) -> sa.ColumnElement[int]:
    """The x of a point, an integer: its step, or when it was measured in ms since 1970."""
    if axis == "step":
        return cast(sa.ColumnElement[int], col(MetricRow.step))
    at = col(MetricRow.at)
    if dialect == "sqlite":  # stored as text: julianday() reads it
        days = sa.func.julianday(at) - EPOCH_JULIAN_DAY
        return sa.cast(days * MS_A_DAY, sa.BigInteger)
    return sa.cast(sa.extract("epoch", at) * 1000, sa.BigInteger)


def _point(x: sa.ColumnElement[int]) -> Query:
    fields = (MetricRow.id, MetricRow.step, MetricRow.at, MetricRow.value)
    return sa.select(*(col(f) for f in fields), x.label("x"))


def _part(x: sa.ColumnElement[int], cut: Slices) -> sa.ColumnElement[int]:
    """Which slice a point is in: integer division on both databases, as Slices.of."""
    return ((x - cut.lo) * cut.count).op("/")(sa.literal(cut.width, sa.BigInteger))


def _extremes(
    x: sa.ColumnElement[int], on_axis: sa.ColumnElement[bool], cut: Slices
) -> Sequence[Query]:
    """SQLite: the rowids of each slice's lowest and highest points. Its bare columns: with
    one min() or max(), the others come from its row; one pass each, no sort (a window or
    DISTINCT ON sorts all the points), only each point's rowid through the grouping."""
    value, part = col(MetricRow.value), _part(x, cut)
    lowest = sa.select(ROWID, sa.func.min(value)).where(on_axis).group_by(part)
    highest = sa.select(ROWID, sa.func.max(value)).where(on_axis).group_by(part)
    return lowest, highest


def _extreme_places(
    x: sa.ColumnElement[int], on_axis: sa.ColumnElement[bool], cut: Slices
) -> Query:
    """PostgreSQL: each slice's lowest and highest points as [value, block, item] — min()
    and max() of an array compare its value first and carry the row's place (its ctid), in
    one hashed pass with no sort of the series (DISTINCT ON sorted all 200,000 points)."""
    place: sa.Label[Any] = sa.literal_column("run_metrics.ctid::text::point").label("place")
    points = sa.select(col(MetricRow.value), place, _part(x, cut).label("part")).where(on_axis)
    inner = points.subquery("sliced")
    packed: sa.ColumnElement[Any] = sa.literal_column(
        f"ARRAY[{inner.name}.value, ({inner.name}.place)[0], ({inner.name}.place)[1]]"
    )
    selected = sa.select(sa.func.min(packed), sa.func.max(packed)).select_from(inner)
    return selected.group_by(inner.c.part)


def _at_places(tids: list[str]) -> sa.TextClause:
    """The rows at these places (ctids, read in this same transaction)."""
    places = sa.bindparam("tids", tids, type_=sa.ARRAY(sa.Text))
    return sa.text("run_metrics.ctid = ANY(CAST(:tids AS tid[]))").bindparams(places)
