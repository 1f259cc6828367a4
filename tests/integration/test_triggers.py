"""Triggers end to end: real NATS, scheduler, executor, gateway and trigger service."""

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.trigger.tables import ScheduleRow
from shared.bus import now
from shared.db import create_engine, sessionmaker
from tests.conftest import eventually, service_db
from tests.integration.conftest import (
    Stack,
    build_other,
    caught_up,
    start_stack,
    stop_stack,
    wait_run,
)
from tests.integration.served import served


@pytest.fixture
async def stack(nats_url: str, db: tuple[str, str], tmp_path: Path) -> AsyncIterator[Stack]:
    running = await start_stack(nats_url, db, tmp_path / "home", services=("trigger",))
    yield running
    await stop_stack(running)


async def apply(stack: Stack, text: str, kind: str = "triggers") -> dict[str, Any]:
    response = await stack.http.post(
        f"/v1/{kind}", content=text, headers={"content-type": "application/yaml"}
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def history(stack: Stack, name: str, kind: str = "triggers") -> list[dict[str, Any]]:
    return (await stack.http.get(f"/v1/{kind}/{name}/history")).json()  # type: ignore[no-any-return]


async def fired(stack: Stack, name: str, count: int, timeout: float = 20) -> list[dict[str, Any]]:
    """The trigger's firings once at least `count` of them started a run."""

    async def check() -> list[dict[str, Any]] | None:
        rows = [r for r in await history(stack, name) if r["status"] == "fired"]
        return rows if len(rows) >= count else None

    return await eventually(check, timeout=timeout)  # type: ignore[return-value]


async def publish(stack: Stack, subject: str, data: dict[str, Any]) -> str:
    response = await stack.http.post(f"/v1/events/{subject}", json=data)
    assert response.status_code == 202, response.text
    return response.json()["id"]  # type: ignore[no-any-return]


ON_SALES = """
kind: trigger
name: on-sales
target:
  command: [echo, "region={{ event.region }} rows={{ event.rows }}"]
event:
  subject: ext.sales.updated
  where: {region: eu, rows: {gte: 100}}
"""


async def test_a_matching_event_starts_a_run_with_its_values_bound(stack: Stack) -> None:
    assert (await apply(stack, ON_SALES))["change"] == "created"
    assert (await apply(stack, ON_SALES))["change"] == "unchanged"
    await publish(stack, "ext.sales.updated", {"region": "us", "rows": 500})  # filtered out
    await publish(stack, "ext.sales.updated", {"region": "eu", "rows": 5})  # filtered out
    event_id = await publish(stack, "ext.sales.updated", {"region": "eu", "rows": 120})

    [firing] = await fired(stack, "on-sales", 1)
    assert firing["event_id"] == event_id
    run = await wait_run(stack.http, firing["run_id"])
    assert run["state"] == "completed"
    assert run["command"] == ["echo", "region=eu rows=120"]
    cause = {k: v for k, v in run["cause"].items() if v is not None}
    assert cause == {
        "kind": "event",
        "trigger": "on-sales",
        "event_id": event_id,
        "subject": "ext.sales.updated",
        "depth": 1,
    }
    lines = (await stack.http.get(f"/v1/runs/{firing['run_id']}/logs")).json()["lines"]
    assert [line["line"] for line in lines] == ["region=eu rows=120"]
    assert len(await history(stack, "on-sales")) == 1


async def test_an_event_missing_a_bound_field_is_a_skipped_firing_with_the_reason(
    stack: Stack,
) -> None:
    await apply(stack, ON_SALES.replace("rows: {gte: 100}", "rows: {exists: false}"))
    await publish(stack, "ext.sales.updated", {"region": "eu"})

    async def skipped() -> list[dict[str, Any]]:
        return [r for r in await history(stack, "on-sales") if r["status"] == "skipped"]

    [row] = await eventually(skipped)  # type: ignore[misc]
    assert row["reason"] == "binding {{ event.rows }} has no value in this event"
    assert row["run_id"] is None


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ("where: {region: eu, rows: {gte: 100}}", None),
        ("where: {region: {like: eu}}", "unknown operator 'like' for 'region'"),
        (
            "where: {region: [eu, rows: 1}",
            "not valid YAML, line 8, column 31: expected ',' or ']', but got '}'",
        ),
        ("subject: ext.sales.updated", None),
        (
            "subject: sales.updated",
            "cannot listen on 'sales.updated': it is no boxops subject, and other systems' "
            "subjects start with ext. (e.g. ext.sales.updated)",
        ),
        ("subject: '>'", "cannot listen on '>'"),
        ("subject: 'sales..x'", "'sales..x' is not a NATS subject"),
    ],
)
async def test_bad_trigger_specs_are_refused_at_apply_time(
    stack: Stack, change: str, error: str | None
) -> None:
    text = ON_SALES.replace("where: {region: eu, rows: {gte: 100}}", change)
    text = text.replace("subject: ext.sales.updated", change) if "subject" in change else text
    response = await stack.http.post(
        "/v1/triggers", content=text, headers={"content-type": "application/yaml"}
    )
    if error is None:
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 422
        assert error in json.dumps(response.json())


@pytest.mark.parametrize(
    ("schedule", "error"),
    [
        ("{cron: '0 25 * * *'}", "'0 25 * * *' is not a valid five-field cron expression"),
        ("{cron: '0 * * * *', timezone: Mars/Olympus}", "'Mars/Olympus' is not an IANA time zone"),
    ],
)
async def test_a_bad_cron_or_time_zone_is_refused(stack: Stack, schedule: str, error: str) -> None:
    text = f"kind: trigger\nname: nightly\ntarget: {{command: ['true']}}\nschedule: {schedule}\n"
    response = await stack.http.post(
        "/v1/triggers", content=text, headers={"content-type": "application/yaml"}
    )
    assert response.status_code == 422
    assert error in json.dumps(response.json())


STORM = """
import asyncio, json, sys, time
import nats

async def main(url, subject, count):
    client = await nats.connect(url)
    js = client.jetstream()
    began = time.monotonic()
    acks = [await js.publish_async(subject, json.dumps({"region": "eu", "rows": 100 + i}).encode())
            for i in range(count)]
    await asyncio.gather(*acks)
    print(f"published {count} events in {time.monotonic() - began:.2f} s")
    await client.close()

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


async def test_a_storm_of_events_with_debounce_starts_one_run_with_the_last_bindings(
    stack: Stack, nats_url: str
) -> None:
    await apply(stack, ON_SALES.replace("event:\n", "debounce: 5s\nevent:\n"))
    # Another process publishes the storm, as another system would: 10,000 events in ~1 s.
    storm = await asyncio.create_subprocess_exec(
        sys.executable, "-c", STORM, nats_url, "ext.sales.updated", "10000"
    )
    assert await storm.wait() == 0

    [firing] = await eventually(lambda: _started_runs(stack, "on-sales"), timeout=60)  # type: ignore[misc]
    run = await wait_run(stack.http, firing["run_id"])
    assert run["command"] == ["echo", "region=eu rows=10099"]
    await caught_up(stack.others["trigger"])  # every event of the storm was read: no new window
    rows = await history(stack, "on-sales")
    assert [(r["status"], r["run_id"]) for r in rows] == [("debounced", firing["run_id"])]


async def test_a_debounced_decision_keeps_its_own_status_in_history_http_and_cli(
    stack: Stack,
) -> None:
    await apply(stack, ON_SALES.replace("event:\n", "debounce: 4s\nevent:\n"))
    for rows in (100, 101):
        await publish(stack, "ext.sales.updated", {"region": "eu", "rows": rows})

    async def waiting() -> list[dict[str, Any]] | None:
        rows = await history(stack, "on-sales")
        return rows if rows and rows[0]["status"] == "debounced" else None

    [open_window] = await eventually(waiting)  # type: ignore[misc]
    assert (open_window["run_id"], open_window["reason"]) == (None, "debouncing for 4 s")

    [firing] = await eventually(lambda: _started_runs(stack, "on-sales"))  # type: ignore[misc]
    assert firing["status"] == "debounced"
    assert firing["reason"] == "fired when its 4 s debounce window closed"
    run = await wait_run(stack.http, firing["run_id"])
    assert run["command"] == ["echo", "region=eu rows=101"]

    async with served(stack.gateway) as url:
        shown = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "boxops.cli.main", "triggers", "history", "on-sales"],
            env=_without_boxops(os.environ) | {"BOXOPS_GATEWAY_URL": url, "COLUMNS": "300"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert shown.returncode == 0, shown.stderr
    [line] = [line for line in shown.stdout.splitlines() if firing["run_id"] in line]
    cells = [cell.strip() for cell in line.strip(" │").split("│")]
    assert cells[1:3] == ["debounced", firing["run_id"]]
    assert cells[-1] == "fired when its 4 s debounce window closed"


def _without_boxops(env: Any) -> dict[str, str]:
    return {k: v for k, v in env.items() if not k.startswith("BOXOPS_")}


async def _started_runs(stack: Stack, name: str) -> list[dict[str, Any]]:
    return [row for row in await history(stack, name) if row["run_id"]]


async def test_a_bound_value_no_database_can_store_is_a_skipped_firing_with_the_reason(
    stack: Stack,
) -> None:
    await apply(stack, ON_SALES.replace("where: {region: eu, rows: {gte: 100}}", "where: {}"))
    await publish(stack, "ext.sales.updated", {"region": "e\u0000u", "rows": 100})

    [skipped] = await eventually(lambda: history(stack, "on-sales"))  # type: ignore[misc]

    assert (skipped["status"], skipped["run_id"]) == ("skipped", None)
    assert skipped["reason"] == "not firing: a NUL character cannot be stored (at command.1)"


async def test_concurrency_skip_queue_and_replace(stack: Stack) -> None:
    spec = "kind: trigger\nname: {name}\ntarget: {{command: [sleep, '1.5']}}\nconcurrency: {c}\n"
    for policy in ("skip", "queue", "replace"):
        await apply(stack, spec.format(name=policy, c=policy))
        for _ in range(2):
            response = await stack.http.post(f"/v1/triggers/{policy}/fire", json={})
            assert response.status_code == 202, response.text

    skip = await history(stack, "skip")
    assert sorted(r["status"] for r in skip) == ["fired", "skipped"]
    assert "still active" in next(r["reason"] for r in skip if r["status"] == "skipped")

    queued = await fired(stack, "queue", 2, timeout=20)
    first, second = sorted(queued, key=lambda r: r["at"])
    run_one = await wait_run(stack.http, first["run_id"])
    run_two = await wait_run(stack.http, second["run_id"])
    assert run_one["history"][-1]["at"] <= run_two["history"][0]["at"]

    replaced = sorted(await fired(stack, "replace", 2), key=lambda r: r["at"])
    old = await wait_run(stack.http, replaced[0]["run_id"])
    new = await wait_run(stack.http, replaced[1]["run_id"])
    assert old["state"] == "aborted", old
    assert new["state"] == "completed"


async def test_a_trigger_chain_that_feeds_itself_stops_at_the_depth_limit(stack: Stack) -> None:
    await apply(
        stack,
        "kind: trigger\nname: loop\ntarget: {command: ['true']}\n"
        "event: {subject: run.completed, where: {}}\n",
    )
    await stack.http.post("/v1/triggers/loop/fire", json={})

    async def stopped() -> list[dict[str, Any]] | None:
        rows = await history(stack, "loop")
        return rows if any(r["status"] == "skipped" for r in rows) else None

    rows = await eventually(stopped, timeout=30)
    assert [r["status"] for r in rows] == ["skipped", "fired", "fired", "fired"]
    assert rows[0]["reason"] == "causation depth 3 reached the limit 3: not firing"
    assert rows[0]["run_id"] is None
    # The chain goes on only through a run: once the trigger has finished with the run's end
    # that it skipped (and published whatever that caused) and the scheduler has read that,
    # every run the chain asked for exists.
    await caught_up(stack.others["trigger"])
    await caught_up(stack.scheduler)
    runs = (await stack.http.get("/v1/runs", params={"trigger": "loop"})).json()
    assert len(runs) == 3
    assert len(await history(stack, "loop")) == 4


async def test_all_of_fires_once_when_every_condition_was_seen_in_the_window(
    stack: Stack,
) -> None:
    await apply(
        stack,
        """
kind: trigger
name: both
target: {command: [echo, "{{ events.features.v }}+{{ events.labels.v }}"]}
all_of:
  window: 1h
  events:
    features: {subject: ext.features.ready}
    labels: {subject: ext.labels.ready}
""",
    )
    await publish(stack, "ext.features.ready", {"v": "f1"})
    await publish(stack, "ext.features.ready", {"v": "f2"})
    await publish(stack, "ext.labels.ready", {"v": "l1"})
    [firing] = await fired(stack, "both", 1)
    run = await wait_run(stack.http, firing["run_id"])
    assert run["command"] == ["echo", "f2+l1"]
    # Events are read in order: had the features alone decided anything (fired, or skipped
    # for want of labels), that row would be here before the firing.
    assert [r["status"] for r in await history(stack, "both")] == ["fired"]


async def rewind(db: tuple[str, str], trigger: str, minutes: int) -> None:
    """Pretend the schedule last ticked `minutes` ago, as if the service had been down."""
    url, schema = service_db(db, "trigger")
    engine = create_engine(url, schema)
    async with sessionmaker(engine)() as session:
        last = now() - timedelta(minutes=minutes)
        await session.merge(ScheduleRow(trigger=trigger, last_tick=last))
        await session.commit()
    await engine.dispose()


async def scheduled(stack: Stack, name: str) -> list[str]:
    return [r["tick"] for r in await history(stack, name) if r["status"] == "fired"]


async def last_tick(stack: Stack, name: str) -> datetime | None:
    shown = (await stack.http.get(f"/v1/triggers/{name}")).json()
    tick = (shown.get("state") or {}).get("last_tick")
    return datetime.fromisoformat(tick) if tick else None


async def schedule_started(stack: Stack, name: str) -> bool:
    return await last_tick(stack, name) is not None


async def ticked(stack: Stack, name: str, passes: int = 1) -> None:
    """Wait until `passes` passes of the clock that began from now on have committed: each
    writes the moment it began as the schedule's last tick."""
    since, seen = now(), set()

    async def check() -> bool:
        tick = await last_tick(stack, name)
        if tick and tick > since:
            seen.add(tick)
        return len(seen) >= passes

    await eventually(check)


async def test_schedules_fire_each_missed_tick_once_across_restarts_and_replicas(
    stack: Stack, nats_url: str, db: tuple[str, str], tmp_path: Path
) -> None:
    await apply(
        stack,
        "kind: trigger\nname: minutely\ntarget: {command: ['true']}\n"
        "schedule: {cron: '* * * * *', catchup: all}\n",
    )
    await eventually(lambda: schedule_started(stack, "minutely"))
    first = stack.others["trigger"]
    common = {"nats_url": nats_url, "home": tmp_path / "replica"}
    replica = build_other("trigger", common, db, None)
    await replica.start()  # two replicas on one database, both ticking
    try:
        await rewind(db, "minutely", 5)

        async def five() -> list[str] | None:
            ticks = await scheduled(stack, "minutely")
            return ticks if len(ticks) >= 5 else None

        await eventually(five, timeout=20)
        await ticked(stack, "minutely", passes=4)  # both replicas tick on, racing
        await replica.stop()  # its pass in hand commits or is rolled back: no more races
        ticks = await scheduled(stack, "minutely")
        assert len(ticks) == len(set(ticks)) >= 5

        await first.stop()
        await rewind(db, "minutely", 3)  # "down" since 3 minutes ago: those ticks fired already
        await first.start()
        await ticked(stack, "minutely")  # its first pass read the rewound tick
        again = await scheduled(stack, "minutely")
        assert len(again) == len(set(again))
        assert set(ticks) <= set(again)
        runs = [r["run_id"] for r in await history(stack, "minutely") if r["run_id"]]
        assert len(runs) == len(set(runs)) == len(again)
    finally:
        await replica.stop()


async def test_ticks_missed_while_down_are_recorded_not_fired_with_catchup_none(
    stack: Stack, db: tuple[str, str]
) -> None:
    await apply(
        stack,
        "kind: trigger\nname: hourly\ntarget: {command: ['true']}\n"
        "schedule: {cron: '* * * * *', catchup: none}\n",
    )
    await eventually(lambda: schedule_started(stack, "hourly"))
    await rewind(db, "hourly", 10)

    async def skipped() -> list[dict[str, Any]] | None:
        rows = [r for r in await history(stack, "hourly") if r["status"] == "skipped"]
        return rows or None

    [row] = await eventually(skipped)  # type: ignore[misc]
    assert (
        "missed while the trigger service was down were not fired (catchup: none)" in row["reason"]
    )
    assert len(await scheduled(stack, "hourly")) <= 1  # only a tick that is due right now
