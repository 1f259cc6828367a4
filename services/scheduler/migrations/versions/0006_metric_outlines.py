"""Each metric series' outline for its chart: per run, metric and axis its buckets' width,
count, first and last points, and per bucket its lowest and highest points, written once a
batch as points arrive, so that a chart reads a few thousand rows, not every point. The
series stored before get theirs from their points.

Revision ID: scheduler_0006
Revises: scheduler_0005
Create Date: 2026-12-07
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "scheduler_0006"
down_revision = "scheduler_0005"
branch_labels = None
depends_on = None

KEY = ("run_id", "name", "axis")
SPAN = 4096
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _point_columns(role: str) -> list[sa.Column[Any]]:
    return [
        sa.Column(f"{role}_id", sa.String(), nullable=False),
        sa.Column(f"{role}_step", sa.Integer(), nullable=True),
        sa.Column(f"{role}_us", sa.BigInteger(), nullable=False),
        sa.Column(f"{role}_value", sa.Float(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "run_metric_outlines",
        *(sa.Column(c, sa.String(), primary_key=True) for c in KEY),
        sa.Column("shift", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        *_point_columns("first"),
        *_point_columns("last"),
    )
    op.create_table(
        "run_metric_buckets",
        *(sa.Column(c, sa.String(), primary_key=True) for c in KEY),
        sa.Column("bucket", sa.BigInteger(), primary_key=True),
        *_point_columns("low"),
        *_point_columns("high"),
    )
    _backfill()


def _backfill() -> None:
    """The outlines of the series stored before, as services/scheduler/outline.py makes them
    (frozen here, as a migration must be): with all of a series' points at once."""
    bind = op.get_bind()
    points = sa.table(
        "run_metrics",
        *(sa.column(c) for c in ("id", "run_id", "name", "step", "value")),
        sa.column("at", sa.DateTime(timezone=True)),
    )
    c = points.c
    query = sa.select(c.run_id, c.name, c.id, c.step, c.value, c.at)
    rows = bind.execute(query.order_by(c.run_id, c.name))
    for run_id, name, series in _series(rows):
        for axis in ("step", "time"):
            on_axis = [p for p in series if axis == "time" or p[1] is not None]
            if on_axis:
                _outline(bind, (run_id, name, axis), on_axis)


def _series(rows: Any) -> Iterator[tuple[str, str, list[tuple[str, int | None, int, float]]]]:
    """Each series' points as (id, step, µs since 1970, value), a series at a time."""
    key: tuple[str, str] | None = None
    series: list[tuple[str, int | None, int, float]] = []
    for run_id, name, point_id, step, value, at in rows:
        if (run_id, name) != key:
            if key is not None:
                yield (*key, series)
            key, series = (run_id, name), []
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        series.append((point_id, step, (at - EPOCH) // timedelta(microseconds=1), value))
    if key is not None:
        yield (*key, series)


def _outline(bind: Any, key: tuple[str, str, str], series: list[Any]) -> None:
    def x(p: Any) -> int:
        return int(p[2] if key[2] == "time" else p[1])

    ends = sorted(series, key=lambda p: (x(p), p[2], p[0]))
    first, last = ends[0], ends[-1]
    shift = 0
    while (x(last) >> shift) - (x(first) >> shift) >= SPAN:
        shift += 2  # as the code widens: by four at a time
    lows: dict[int, Any] = {}
    highs: dict[int, Any] = {}
    for p in series:
        b, rank = x(p) >> shift, (p[3], p[2], p[0])
        if b not in lows or rank < (lows[b][3], lows[b][2], lows[b][0]):
            lows[b] = p
        if b not in highs or rank > (highs[b][3], highs[b][2], highs[b][0]):
            highs[b] = p
    keyed = dict(zip(KEY, key, strict=True))
    outline = {**keyed, "shift": shift, "count": len(series)}
    bind.execute(
        sa.table("run_metric_outlines", *map(sa.column, outline), *_columns("first", "last"))
        .insert()
        .values({**outline, **_point("first", first), **_point("last", last)})
    )
    buckets = [
        {**keyed, "bucket": b, **_point("low", lows[b]), **_point("high", highs[b])} for b in lows
    ]
    table = sa.table("run_metric_buckets", *map(sa.column, buckets[0]))
    bind.execute(table.insert(), buckets)


def _columns(*roles: str) -> list[sa.ColumnClause[Any]]:
    return [sa.column(f"{r}_{f}") for r in roles for f in ("id", "step", "us", "value")]


def _point(role: str, p: Any) -> dict[str, Any]:
    return dict(zip((f"{role}_{f}" for f in ("id", "step", "us", "value")), p, strict=True))


def downgrade() -> None:
    op.drop_table("run_metric_buckets")
    op.drop_table("run_metric_outlines")
