"""Metric series' outlines as the scheduler writes points, on SQLite and PostgreSQL: batches
out of order, repeated, with points twice or without a step, and a run with two metrics
keep the outline of their points; a chart is read from it; series stored before the
migration get theirs from their points."""

import math
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scheduler.metrics import MetricWriter
from services.scheduler.outline import Axis, Point, Ranked, extend, fold, microseconds, thin
from services.scheduler.outlined import read_buckets, read_outlines
from services.scheduler.series import read_series
from shared.db import create_engine
from shared.envelope import Envelope
from shared.events import MetricLogged, MetricsBatch
from shared.migrate import alembic_config, upgrade
from tests.integration.test_migrations import alembic, on_database

Sessions = async_sessionmaker[AsyncSession]
VERSIONS = Path("services/scheduler/migrations/versions")
T0 = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)


def points(name: str, count: int) -> list[dict[str, Any]]:
    """A noisy curve, a point every 10 ms; every seventh point has no step."""
    return [
        {
            "id": f"{name}-{i}",
            "name": name,
            "value": math.cos(i / 50) + (i % 11) / 10,
            "step": None if i % 7 == 3 else i,
            "at": T0 + timedelta(microseconds=10_000 * i + 1),
        }
        for i in range(count)
    ]


def batch(run_id: str, sent: list[dict[str, Any]]) -> Envelope[MetricLogged | MetricsBatch]:
    data = MetricsBatch(points=sent, run_id=run_id)
    return Envelope(id=uuid.uuid4().hex, source="test", time=T0, data=data)


def ranked(run_id: str, sent: list[dict[str, Any]], axis: Axis) -> list[Ranked]:
    """The points as stored (their ids keyed by run), those on the axis."""
    return [
        (p["value"], microseconds(p["at"]), f"{run_id}-{p['id']}", p["step"])
        for p in sent
        if axis == "time" or p["step"] is not None
    ]


async def test_batches_out_of_order_repeated_and_of_two_metrics_keep_their_outlines(
    outbox_sessions: Sessions,
) -> None:
    writer = MetricWriter(outbox_sessions)
    loss, acc = points("loss", 12_000), points("acc", 900)
    batches = [loss[i : i + 1_500] for i in range(0, len(loss), 1_500)]
    random.Random(3).shuffle(batches)
    for sent in batches[:4]:
        await writer.on_metrics([batch("r1", sent)])
    await writer.on_metrics([batch("r1", batches[1]), batch("r1", batches[4] + acc)])
    await writer.on_metrics([batch("r1", batches[2] + batches[5])])  # a batch again, and new
    await writer.on_metrics([batch("r1", sent + sent[:10]) for sent in batches[6:]])
    await writer.on_metrics([batch("r1", batches[0])])  # all of it stored before

    async with outbox_sessions() as session:
        connection = await session.connection()
        for name, sent in (("loss", loss), ("acc", acc)):
            outlines = await read_outlines(connection, "r1", name)
            for axis in ("step", "time"):
                expected = ranked("r1", sent, axis)
                outline = extend(axis, None, expected)
                assert outlines[axis] == outline
                stored = await read_buckets(connection, ("r1", name, axis))
                assert stored == fold(axis, expected, outline.shift)


async def test_a_chart_is_read_from_the_outline_and_short_series_from_their_points(
    outbox_sessions: Sessions,
) -> None:
    writer = MetricWriter(outbox_sessions)
    loss, acc = points("loss", 6_000), points("acc", 40)
    await writer.on_metrics([batch("r1", loss[3_000:]), batch("r1", acc)])
    await writer.on_metrics([batch("r1", loss[:3_000])])

    async with outbox_sessions() as session:
        connection = await session.connection()
        outlines = await read_outlines(connection, "r1", "loss")
        for axis in ("step", "time"):
            read = await read_series(session, "r1", "loss", axis, 200)
            assert read is not None
            buckets = await read_buckets(connection, ("r1", "loss", axis))
            assert read.points == thin(axis, outlines[axis], buckets.values(), 200)
            assert (read.total, read.count) == (6_000, len(ranked("r1", loss, axis)))
        short = await read_series(session, "r1", "acc", "step", 200)
        missing = await read_series(session, "r1", "nope", "time", 200)
    assert short is not None and [p.step for p in short.points] == [
        p["step"] for p in acc if p["step"] is not None
    ]
    assert missing is None


SEEDED: list[tuple[int | None, float, datetime]] = [
    (2, 0.5, T0),
    (None, 0.9, T0 + timedelta(seconds=1)),
    (0, 0.7, T0 + timedelta(days=1)),
    (1, 0.7, T0 + timedelta(days=1, microseconds=3)),
]


def _seed(connection: Connection) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO run_metrics (id, run_id, name, step, value, at) "
            "VALUES (:id, 'r1', 'loss', :step, :value, :at)"
        ),
        [{"id": f"p{i}", "step": s, "value": v, "at": at} for i, (s, v, at) in enumerate(SEEDED)],
    )


async def test_series_stored_before_get_their_outlines_from_their_points(
    db: tuple[str, str],
) -> None:
    await alembic(command.upgrade, alembic_config(*db, VERSIONS), "scheduler_0005")
    await on_database(db, _seed)

    await upgrade(*db, VERSIONS)

    engine = create_engine(*db)
    async with engine.connect() as connection:
        outlines = await read_outlines(connection, "r1", "loss")
        stored = {axis: await read_buckets(connection, ("r1", "loss", axis)) for axis in outlines}
    await engine.dispose()
    seeded = [(v, microseconds(at), f"p{i}", s) for i, (s, v, at) in enumerate(SEEDED)]
    for axis in ("step", "time"):
        on_axis = [p for p in seeded if axis == "time" or p[3] is not None]
        outline = extend(axis, None, on_axis)
        assert outlines[axis] == outline
        assert stored[axis] == fold(axis, on_axis, outline.shift)
    assert outlines["time"].shift > 0 and outlines["time"].count == 4
    assert outlines["step"].first == Point(0.7, microseconds(T0) + 86_400 * 10**6, "p2", 0)
