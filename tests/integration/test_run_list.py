"""The run list's query on SQLite and PostgreSQL: each filter, each sort with its keyset
pages (no run skipped or repeated, ties broken by id), and the metric values it returns."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scheduler import listed, listing, store
from services.scheduler.domain import Run, RunState, Transition
from services.scheduler.intake import base_run
from services.scheduler.tables import RunRow
from shared.events import Cause, InputRef, RunRequested
from shared.queries import RunCursor, RunList
from shared.run_sorts import COLUMNS, parse_sort

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
Sessions = async_sessionmaker[AsyncSession]


def a_run(number: int, **fields: Any) -> Run:
    command = fields.pop("command", ["python", "train.py"])
    run = base_run(f"r{number:02d}", RunRequested(command=command), T0 + timedelta(minutes=number))
    return replace(run, **fields)


def ran(run: Run, seconds: float, state: RunState = RunState.COMPLETED) -> Run:
    began = run.created_at + timedelta(seconds=1)
    history = (
        Transition(RunState.RUNNING, None, began, "process started"),
        Transition(state, None, began + timedelta(seconds=seconds), "exit code 0"),
    )
    return replace(run, state=state, history=history)


async def saved(sessions: Sessions, runs: list[Run]) -> None:
    async with sessions.begin() as session:
        await store.save_all(session, runs, now=T0, new=[run.id for run in runs])


async def metrics(sessions: Sessions, points: list[tuple[str, str, int | None, float]]) -> None:
    rows = [
        (f"p{i}", run, name, step, value, T0) for i, (run, name, step, value) in enumerate(points)
    ]
    async with sessions.begin() as session:
        await store.add_metrics(session, rows)
        await listed.keep_last_metrics(session, rows)


async def ids(sessions: Sessions, **asked: Any) -> list[str]:
    async with sessions() as session:
        found = await listing.page(session, RunList(limit=100, **asked))
    return [row.id for row, _ in found]


async def every_page(sessions: Sessions, limit: int, **asked: Any) -> list[str]:
    """Page through the whole list `limit` runs at a time, as the runs page does."""
    sort = parse_sort(asked.get("sort", "created"))
    seen: list[str] = []
    after: RunCursor | None = None
    while True:
        async with sessions() as session:
            found = await listing.page(session, RunList(limit=limit, after=after, **asked))
        seen += [row.id for row, _ in found]
        if len(found) < limit:
            return seen
        row, latest = found[-1]
        after = RunCursor(value=_value(row, latest, sort), created_at=row.created_at, id=row.id)


def _value(row: RunRow, latest: dict[str, float], sort: Any) -> Any:
    if sort.metric:
        return latest.get(sort.metric)
    value = getattr(row, COLUMNS[sort.key])
    return value.isoformat() if isinstance(value, datetime) else value


async def test_each_filter_finds_its_runs(outbox_sessions: Sessions) -> None:
    iris = InputRef(type="dataset", name="iris", version=2)
    runs = [
        a_run(
            1, component="train@1", cause=Cause(kind="event", trigger="on-iris", monitor="floor")
        ),
        a_run(2, pipeline="iris-train@1", inputs={"data": iris}),
        a_run(3, inputs={"raw": iris.model_copy(update={"version": 1})}, reason="50%_done"),
        a_run(4, command=["sh", "-c", "echo café"], state=RunState.FAILED),
        a_run(
            5,
            inputs={"model": InputRef(type="model", name="iris", version=2)},
            cause=Cause(kind="event", trigger="on-drop", monitor="floor-2"),
        ),
    ]
    await saved(outbox_sessions, runs)

    assert await ids(outbox_sessions, trigger="on-iris") == ["r01"]
    assert await ids(outbox_sessions, monitor="floor") == ["r01"]  # the threshold event's
    assert await ids(outbox_sessions, monitor="floor-2") == ["r05"]
    assert await ids(outbox_sessions, monitor="flo") == []
    assert await ids(outbox_sessions, dataset="iris") == ["r03", "r02"]
    assert await ids(outbox_sessions, dataset="iris", dataset_version=2) == ["r02"]
    assert await ids(outbox_sessions, dataset="iri") == []
    assert await ids(outbox_sessions, state="failed") == ["r04"]
    assert await ids(outbox_sessions, since=T0 + timedelta(minutes=2)) == [
        "r05",
        "r04",
        "r03",
        "r02",
    ]
    assert await ids(outbox_sessions, until=T0 + timedelta(minutes=2)) == ["r02", "r01"]
    assert await ids(outbox_sessions, text="r0") == ["r05", "r04", "r03", "r02", "r01"]
    assert await ids(outbox_sessions, text="TRAIN") == ["r05", "r03", "r02", "r01"]  # any case
    assert await ids(outbox_sessions, text="café") == ["r04"]  # a command word, as JSON holds it
    assert await ids(outbox_sessions, text="50%_") == ["r03"]
    assert await ids(outbox_sessions, text="%") == ["r03"]  # literal, not a wildcard
    assert await ids(outbox_sessions, text="_d") == ["r03"]


async def test_a_run_reading_another_version_now_is_found_by_it(outbox_sessions: Sessions) -> None:
    run = a_run(1, inputs={"data": InputRef(type="dataset", name="iris", version=1)})
    await saved(outbox_sessions, [run])
    async with outbox_sessions.begin() as session:
        loaded = await store.load(session, run.id)
        assert loaded is not None
        moved = replace(loaded, inputs={"data": InputRef(type="dataset", name="iris", version=2)})
        await store.save_all(session, [moved], now=T0)

    assert await ids(outbox_sessions, dataset="iris", dataset_version=1) == []
    assert await ids(outbox_sessions, dataset="iris", dataset_version=2) == ["r01"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("created:desc", ["r06", "r05", "r04", "r03", "r02", "r01"]),
        ("created:asc", ["r01", "r02", "r03", "r04", "r05", "r06"]),
        # Ties (r02, r03 and r04 ran 5 s) broken by id; r06 never ran: last, newest first.
        ("duration:desc", ["r05", "r04", "r03", "r02", "r01", "r06"]),
        ("duration:asc", ["r01", "r02", "r03", "r04", "r05", "r06"]),
        ("started:desc", ["r05", "r04", "r03", "r02", "r01", "r06"]),
        ("state:asc", ["r01", "r02", "r04", "r05", "r03", "r06"]),
        ("component", ["r01", "r02", "r03", "r04", "r05", "r06"]),
    ],
)
async def test_keyset_pages_follow_the_sort_with_ties_broken_by_id(
    outbox_sessions: Sessions, sort: str, expected: list[str]
) -> None:
    runs = [
        ran(a_run(1, component="a@1"), 1),
        ran(a_run(2, component="a@1"), 5),
        ran(a_run(3, component="b@1"), 5, RunState.FAILED),
        ran(a_run(4, component="b@1"), 5),
        ran(a_run(5, component="c@1"), 9),
        a_run(6, component="c@1", state=RunState.PENDING),
    ]
    await saved(outbox_sessions, runs)

    assert await ids(outbox_sessions, sort=sort) == expected
    for limit in (1, 2, 4):
        assert await every_page(outbox_sessions, limit, sort=sort) == expected


async def test_a_metric_sort_orders_by_each_runs_last_value_then_the_runs_without_it(
    outbox_sessions: Sessions,
) -> None:
    await saved(outbox_sessions, [a_run(i, pipeline="iris-train@1") for i in range(1, 7)])
    await saved(outbox_sessions, [a_run(7, pipeline="other@1")])
    await metrics(
        outbox_sessions,
        [
            ("r01", "accuracy", 1, 0.99),  # an early point: the last one counts
            ("r01", "accuracy", 2, 0.70),
            ("r02", "accuracy", None, 0.95),
            ("r03", "accuracy", 3, 0.80),
            ("r04", "accuracy", 3, 0.80),
            ("r05", "loss", 3, 0.1),
            ("r07", "accuracy", 1, 1.0),
        ],
    )
    await metrics(outbox_sessions, [("r03", "accuracy", 2, 0.1)])  # older step, later batch

    by_accuracy = ["r02", "r04", "r03", "r01", "r06", "r05"]
    asked = {"pipeline": "iris-train", "sort": "metric.accuracy:desc"}
    assert await ids(outbox_sessions, **asked) == by_accuracy
    for limit in (1, 2, 4):
        assert await every_page(outbox_sessions, limit, **asked) == by_accuracy
    ascending = ["r01", "r03", "r04", "r02", "r06", "r05"]
    assert (
        await every_page(outbox_sessions, 2, **asked | {"sort": "metric.accuracy:asc"}) == ascending
    )
    async with outbox_sessions() as session:
        found = await listing.page(session, RunList(metrics=["accuracy", "loss"], **asked))
    assert {row.id: latest for row, latest in found} == {
        "r01": {"accuracy": 0.70},
        "r02": {"accuracy": 0.95},
        "r03": {"accuracy": 0.80},
        "r04": {"accuracy": 0.80},
        "r05": {"loss": 0.1},
        "r06": {},
    }


async def test_a_run_that_ended_has_its_start_end_and_duration(outbox_sessions: Sessions) -> None:
    await saved(outbox_sessions, [ran(a_run(1), 2.5)])
    async with outbox_sessions() as session:
        [(row, _)] = await listing.page(session, RunList())
    assert row.running_at == T0 + timedelta(minutes=1, seconds=1)
    assert row.ended_at == T0 + timedelta(minutes=1, seconds=3.5)
    assert row.duration_s == 2.5
