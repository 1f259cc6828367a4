"""Monitors over metric streams, the metric-drop flow, and trigger dry runs."""

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.trigger import store as trigger_store
from services.trigger.watch import KEPT_POINTS, TRIM_EVERY
from shared.bus import EVENTS, now
from shared.db import create_engine, sessionmaker
from tests.conftest import eventually, service_db
from tests.integration.conftest import Stack, start_stack, stop_stack, wait_run
from tests.integration.test_triggers import apply, fired, history, publish


@pytest.fixture
async def stack(nats_url: str, db: tuple[str, str], tmp_path: Path) -> AsyncIterator[Stack]:
    running = await start_stack(nats_url, db, tmp_path / "home", services=("trigger",))
    yield running
    await stop_stack(running)


ACCURACY = """
kind: monitor
name: accuracy-floor
metric: accuracy
where: {pipeline: iris-train}
below: 0.9
hysteresis: 0.02
"""

RETRAIN = """
kind: trigger
name: retrain-on-drop
target: {command: [echo, "retrain: {{ event.metric }}={{ event.value }}"]}
event:
  subject: metric.below_threshold
  where: {monitor: accuracy-floor}
"""


async def log_accuracy(stack: Stack, value: float, pipeline: str = "iris-train") -> None:
    await publish(
        stack,
        "metric.logged",
        {"name": "accuracy", "value": value, "labels": {"pipeline": pipeline}},
    )


async def crossings(stack: Stack, count: int) -> list[dict[str, Any]]:
    async def check() -> list[dict[str, Any]] | None:
        rows = await history(stack, "accuracy-floor", "monitors")
        return rows if len(rows) >= count else None

    return await eventually(check)  # type: ignore[return-value]


async def stored(stack: Stack, subject: str) -> int:
    js = stack.gateway_service.bus.nats.jetstream
    info = await js.stream_info(EVENTS.name, subjects_filter=subject)
    return int((info.state.subjects or {}).get(subject, 0))


async def test_a_monitor_fires_on_a_point_inside_a_batch(stack: Stack) -> None:
    await apply(stack, ACCURACY, "monitors")
    values = [0.95] * 500 + [0.85] + [0.8] * 499  # one crossing, then low: no storm
    points = [{"name": "accuracy", "value": v, "step": i} for i, v in enumerate(values)]
    other = {"labels": {"pipeline": "other"}, "points": [{"name": "accuracy", "value": 0.1}]}
    await publish(stack, "metrics.logged", other)  # not watched
    await publish(stack, "metrics.logged", {"labels": {"pipeline": "iris-train"}, "points": points})

    [below] = await crossings(stack, 1)
    assert (below["kind"], below["value"], below["threshold"]) == ("below", 0.85, 0.9)
    await log_accuracy(stack, 0.95)  # a single point after the batch: recovered
    rows = await crossings(stack, 2)
    assert sorted(r["kind"] for r in rows) == ["below", "recovered"]


async def test_a_monitor_fires_once_per_crossing_with_hysteresis(stack: Stack) -> None:
    assert (await apply(stack, ACCURACY, "monitors"))["change"] == "created"
    for value in (0.95, 0.85):
        await log_accuracy(stack, value)
    [below] = await crossings(stack, 1)
    assert (below["kind"], below["value"], below["threshold"]) == ("below", 0.85, 0.9)

    await log_accuracy(stack, 0.8)  # still low: no storm
    await log_accuracy(stack, 0.91)  # inside the band: still latched
    await log_accuracy(stack, 0.93)  # recovered past the band: re-armed
    await log_accuracy(stack, 0.5, pipeline="other")  # not watched, or it would cross here
    await log_accuracy(stack, 0.7)
    # Points are read in the order they were logged: once the crossing at 0.7 is recorded,
    # any crossing an earlier point made is recorded too.
    rows = await crossings(stack, 3)
    newest_first = [("below", 0.7), ("recovered", 0.93), ("below", 0.85)]
    assert [(r["kind"], r["value"]) for r in rows] == newest_first

    async def published() -> int:
        return await stored(stack, "metric.below_threshold")  # after each commit

    assert await eventually(published) == 2


async def test_a_monitor_with_for_fires_when_the_condition_held_long_enough(
    stack: Stack,
) -> None:
    await apply(stack, ACCURACY.replace("hysteresis: 0.02", "for: 1s"), "monitors")
    logged = now()
    await log_accuracy(stack, 0.5)
    [below] = await crossings(stack, 1)  # no further point needed: the clock checks
    assert below["kind"] == "below"
    # Recorded when it fired: not at the point (logged after `logged`), a second later.
    assert datetime.fromisoformat(below["at"]) - logged >= timedelta(seconds=1)


async def test_metric_drops_then_a_retraining_run_starts_once(stack: Stack) -> None:
    await apply(stack, ACCURACY, "monitors")
    await apply(stack, RETRAIN)
    for value in (0.95, 0.85):
        await log_accuracy(stack, value)
    [firing] = await fired(stack, "retrain-on-drop", 1)
    run = await wait_run(stack.http, firing["run_id"])
    assert run["state"] == "completed"
    assert run["command"] == ["echo", "retrain: accuracy=0.85"]
    # The cause chain: monitor → its threshold event → trigger → this run.
    assert run["cause"]["trigger"] == "retrain-on-drop"
    assert run["cause"]["subject"] == "metric.below_threshold"
    assert run["cause"]["monitor"] == "accuracy-floor"

    await log_accuracy(stack, 0.88)  # a further low value inside the hysteresis band
    await log_accuracy(stack, 0.93)  # recovered: re-armed
    await log_accuracy(stack, 0.7)  # the next drop: the next retraining
    # Crossings are read, and their events read by the trigger, in order: once the run for
    # 0.7 is requested, a run for 0.88 would have been requested before it.
    firings = sorted(await fired(stack, "retrain-on-drop", 2), key=lambda r: r["at"])
    commands = [(await wait_run(stack.http, f["run_id"]))["command"] for f in firings]
    assert commands == [["echo", "retrain: accuracy=0.85"], ["echo", "retrain: accuracy=0.7"]]


async def test_a_dry_run_lists_what_a_trigger_would_have_started_and_why(stack: Stack) -> None:
    await apply(
        stack,
        "kind: trigger\nname: catch-all\ntarget: {command: ['true']}\n"
        "event: {subject: ext.orders.placed}\n",
    )
    await publish(stack, "ext.orders.placed", {"shop": "a", "total": 10})
    await publish(stack, "ext.orders.placed", {"shop": "b", "total": 99})
    await publish(stack, "ext.orders.placed", {"shop": "a"})
    candidate = """
kind: trigger
name: big-orders
target: {command: [echo, "{{ event.shop }} {{ event.total }}"]}
event: {subject: ext.orders.placed, where: {shop: a}}
"""
    response = await stack.http.post(
        "/v1/triggers/test",
        params={"since": "1h"},
        content=candidate,
        headers={"content-type": "application/yaml"},
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["events_read"] == 3
    would = [(w["action"], w["reason"]) for w in result["would"]]
    assert would == [
        ("start run", ""),
        ("skip", "binding {{ event.total }} has no value in this event"),
    ]
    assert result["would"][0]["command"] == ["echo", "a 10"]
    shown = (await stack.http.get("/v1/triggers/big-orders")).status_code
    assert shown == 404  # nothing was applied


async def test_a_monitor_keeps_only_its_newest_points_and_leaves_others_alone(
    stack: Stack, db: tuple[str, str]
) -> None:
    await apply(stack, ACCURACY, "monitors")  # the trigger service's tables are migrated
    start = now()
    points = [
        {"id": f"{name}-{i}", "monitor": name, "at": start + timedelta(seconds=i), "value": i}
        for name in ("kept", "other")
        for i in range(5)
    ]
    url, schema = service_db(db, "trigger")
    engine = create_engine(url, schema)
    async with sessionmaker(engine)() as session:
        await trigger_store.keep_points(session, points)
        await trigger_store.forget_old_points(session, "kept", 2)
        kept = await trigger_store.monitor_points(session, "kept", 10)
        other = await trigger_store.monitor_points(session, "other", 10)
        await session.commit()
    await engine.dispose()

    assert [p.value for p in kept] == [3, 4]  # the newest two, oldest first
    assert len(other) == 5


async def test_a_monitor_past_its_kept_points_drops_its_oldest_now_and_then(
    stack: Stack, db: tuple[str, str]
) -> None:
    """Past KEPT_POINTS a monitor drops its oldest once every TRIM_EVERY new points: it
    holds between the two bounds, and its chart still reads the newest."""
    await apply(stack, ACCURACY, "monitors")
    batches, size = 12, 1_000  # 12,000 points: past 10,000, then trimmed at least once
    start = now()
    for batch in range(batches):
        points = [
            {
                "name": "accuracy",
                "value": 1 + batch * size + i,
                "at": (start + timedelta(milliseconds=batch * size + i)).isoformat(),
            }
            for i in range(size)
        ]
        await publish(
            stack, "metrics.logged", {"labels": {"pipeline": "iris-train"}, "points": points}
        )
    last = float(batches * size)

    async def seen_last() -> bool:
        body = (await stack.http.get("/v1/monitors/accuracy-floor/points?limit=1")).json()
        return bool(body) and body[-1]["value"] == last

    await eventually(seen_last, timeout=60)
    url, schema = service_db(db, "trigger")
    engine = create_engine(url, schema)
    async with sessionmaker(engine)() as session:
        held = await trigger_store.monitor_points(session, "accuracy-floor", 100_000)
    await engine.dispose()
    assert KEPT_POINTS <= len(held) < KEPT_POINTS + TRIM_EVERY
    assert [p.value for p in held[-3:]] == [last - 2, last - 1, last]
    chart = (await stack.http.get("/v1/monitors/accuracy-floor/points?limit=1000")).json()
    assert [p["value"] for p in chart] == [last - 999 + i for i in range(1000)]
