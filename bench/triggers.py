"""Trigger figures on the embedded stack, on SQLite and on PostgreSQL.

- event published (bare JSON, nats-py) → its run `running`, over 500 events one at a time,
  with the time to each hop on the way (when its message reached NATS): the trigger service's
  `run.requested`, the scheduler's `run.pending` and `run.dispatched.<executor>`, the
  executor's `executor.run.started`, the scheduler's `run.running`;
- cron fire lateness: a `* * * * *` schedule's trigger.fired against its tick;
- 10,000 triggers on one subject: matching cost per event (the trigger service's matcher).

With the event figures, the CPU time each service process spent per event (from /proc, so
Linux only): on a shared machine it is a steadier figure than the latencies.
"""

import asyncio
import json
import time
import uuid
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx
from nats.aio.msg import Msg

from bench.embedded import connect, embedded, service_pids
from bench.stats import cpu_s, summary
from boxops.home import StackState, api_token
from services.trigger.matcher import Matcher
from shared.trigger_specs import TriggerSpec

EVENTS = 500
HOPS = ("run.requested", "run.pending", "run.dispatched", "executor.run.started", "run.running")
PG = "postgresql://postgres@127.0.0.1:5432"
ON_PING = """
kind: trigger
name: on-ping
target: {command: ["true"]}
event: {subject: ext.bench.ping, where: {kind: ping}}
"""
MINUTELY = """
kind: trigger
name: minutely
target: {command: ["true"]}
schedule: {cron: "* * * * *"}
"""


async def main() -> None:
    for label, db_url in (("sqlite", None), ("postgres", await _fresh_pg_database())):
        with embedded(db_url) as (home, state, _):
            token = api_token(home)
            await _event_to_running(label, home, state, token)
            if label == "sqlite":
                await _cron_lateness(home, state, token)
    _matching_cost()


async def _fresh_pg_database() -> str:
    connection = await asyncpg.connect(f"{PG}/postgres")
    await connection.execute("DROP DATABASE IF EXISTS boxops_bench WITH (FORCE)")
    await connection.execute("CREATE DATABASE boxops_bench")
    await connection.close()
    return f"{PG}/boxops_bench"


async def _apply(state: StackState, token: str, text: str) -> None:
    async with httpx.AsyncClient(base_url=state.gateway_url, timeout=30) as http:
        response = await http.post(
            "/v1/triggers",
            content=text,
            headers={"Authorization": f"Bearer {token}", "content-type": "application/yaml"},
        )
        response.raise_for_status()


async def _event_to_running(label: str, home: Path, state: StackState, token: str) -> None:
    await _apply(state, token, ON_PING)
    client = await connect(home, state.nats_url)
    js = client.jetstream()
    loop = asyncio.get_running_loop()
    run_of: dict[str, asyncio.Future[str]] = {}
    running: dict[str, asyncio.Future[float]] = {}

    def future(table: dict, key: str) -> asyncio.Future:  # type: ignore[type-arg]
        return table.setdefault(key, loop.create_future())

    async def on_fired(msg: Msg) -> None:
        data = json.loads(msg.data)
        if not future(run_of, data["cause"]["event_id"]).done():
            run_of[data["cause"]["event_id"]].set_result(data["run_id"])

    async def on_running(msg: Msg) -> None:
        if not future(running, json.loads(msg.data)["run_id"]).done():
            running[json.loads(msg.data)["run_id"]].set_result(time.time())

    seen: dict[str, dict[str, float]] = {}  # run id → hop → when its message arrived

    async def on_hop(msg: Msg) -> None:
        hop = next(h for h in HOPS if msg.subject.startswith(h))
        seen.setdefault(json.loads(msg.data)["run_id"], {}).setdefault(hop, time.time())

    await client.subscribe("trigger.fired", cb=on_fired)
    await client.subscribe("run.running", cb=on_running)
    for hop in HOPS:
        await client.subscribe(f"{hop}.>" if hop == "run.dispatched" else hop, cb=on_hop)
    await asyncio.sleep(1)  # the subject's stream was just extended: let it settle
    pids = await service_pids(home, state)
    cpu_before = {name: cpu_s(pid) for name, pid in pids.items()}
    latencies, sent_at = [], {}
    for _ in range(EVENTS):
        event_id = uuid.uuid4().hex
        sent = time.time()
        await js.publish("ext.bench.ping", b'{"kind": "ping"}', headers={"Nats-Msg-Id": event_id})
        run_id = await asyncio.wait_for(future(run_of, event_id), 30)
        latencies.append(await asyncio.wait_for(future(running, run_id), 30) - sent)
        sent_at[run_id] = sent
    cpu = {name: (cpu_s(pid) - cpu_before[name]) / EVENTS for name, pid in pids.items()}
    await client.close()
    print(summary(f"event published → run running ({label})", latencies))
    _print_hops(sent_at, seen)
    print("  CPU per event: " + ", ".join(f"{name} {s * 1000:.1f} ms" for name, s in cpu.items()))


def _print_hops(sent_at: dict[str, float], seen: dict[str, dict[str, float]]) -> None:
    before = "event"
    for hop in HOPS:
        hops = [seen[run] | {"event": sent} for run, sent in sent_at.items() if run in seen]
        took = [times[hop] - times[before] for times in hops if hop in times and before in times]
        print(summary(f"  {before} → {hop}", took))
        before = hop


async def _cron_lateness(home: Path, state: StackState, token: str) -> None:
    client = await connect(home, state.nats_url)
    fired: asyncio.Queue[tuple[float, str]] = asyncio.Queue()

    async def on_fired(msg: Msg) -> None:
        data = json.loads(msg.data)
        if data["trigger"] == "minutely":
            await fired.put((time.time(), data["cause"]["tick"]))

    await client.subscribe("trigger.fired", cb=on_fired)
    await _apply(state, token, MINUTELY)
    lateness = []
    for _ in range(2):
        seen, tick = await asyncio.wait_for(fired.get(), 150)
        lateness.append(seen - datetime.fromisoformat(tick).timestamp())
    await client.close()
    print(summary("cron tick → trigger.fired (lateness)", lateness))


def _matching_cost() -> None:
    specs = [
        TriggerSpec.model_validate(
            {
                "name": f"t{i}",
                "target": {"command": ["true"]},
                "event": {
                    "subject": "dataset.version.created",
                    "where": {"dataset": f"data-{i}", "metadata.rows": {"gt": 10}},
                },
            }
        )
        for i in range(10_000)
    ]
    matcher = Matcher(specs)
    event = {"dataset": "data-4242", "version": 3, "metadata": {"rows": 150}}
    rounds = 50
    began = time.perf_counter()
    for _ in range(rounds):
        matched = matcher.match("dataset.version.created", event)
    per_event = (time.perf_counter() - began) / rounds
    assert [spec.name for spec, _ in matched] == ["t4242"]
    print(f"{'10,000 triggers on one subject: matching':<40} {per_event * 1e6:.1f} µs per event")
