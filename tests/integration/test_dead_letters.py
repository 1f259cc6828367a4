"""The events route and the dead letters, against a served gateway on a real nats-server:
only public subjects get in, a catalog event is validated at the door, and what a consumer
could not take is listed, shown and replayed (CLI and HTTP) once its cause is fixed."""

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from faststream.nats import NatsBroker
from pydantic import Field

from services.gateway.app import build_app as build_gateway
from services.gateway.settings import GatewaySettings
from shared.bus import CUSTOM, DEAD_LETTERS, DLQ_PREFIX, EVENTS, REASON, REJECTED_BY, TELEMETRY, Bus
from shared.envelope import Envelope
from shared.events import Event
from tests.conftest import eventually, free_port, wait_port

TOKEN = "secret"


class Order(Event):
    subject = "ext.orders.placed"

    order: str = Field(min_length=1)


@dataclass
class Warehouse:
    """A consumer of orders whose store is down until `fixed`: what it fails on is
    dead-lettered (one delivery, no retries), what it takes is kept."""

    fixed: bool = False
    taken: list[str] = field(default_factory=list)

    async def handle(self, envelope: Envelope[Order]) -> None:
        if not self.fixed:
            raise ConnectionError("warehouse store unreachable")
        self.taken.append(envelope.data.order)


@dataclass
class Served:
    http: httpx.AsyncClient
    bus: Bus
    warehouse: Warehouse
    env: dict[str, str]

    async def boxops(self, *args: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "boxops.cli.main", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    async def count(self, stream: str) -> int:
        return int((await self.bus.nats.jetstream.stream_info(stream)).state.messages)

    async def dead_letters(self, count: int) -> list[dict[str, Any]]:
        async def enough() -> list[dict[str, Any]] | None:
            found: list[dict[str, Any]] = (await self.http.get("/v1/dlq")).json()
            return found if len(found) == count else None

        return await eventually(enough)  # type: ignore[return-value]

    async def taken(self, orders: list[str]) -> None:
        async def check() -> bool:
            return self.warehouse.taken == orders

        await eventually(check)


@pytest.fixture
async def served(nats_url: str, tmp_path: Path) -> AsyncIterator[Served]:
    broker = NatsBroker(nats_url)
    bus, warehouse = Bus(broker, "tests/warehouse"), Warehouse()
    bus.consume(Order, durable="warehouse", max_deliver=1)(warehouse.handle)
    await broker.connect()
    await bus.declare_streams()
    await broker.start()
    await bus.start_consumers()
    port = free_port()
    gateway = build_gateway(GatewaySettings(nats_url=nats_url, home=tmp_path, api_token=TOKEN))
    server = uvicorn.Server(uvicorn.Config(gateway, port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    await asyncio.to_thread(wait_port, port)
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    env |= {"BOXOPS_GATEWAY_URL": url, "BOXOPS_API_TOKEN": TOKEN, "COLUMNS": "200"}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=url, headers=headers) as http:
        yield Served(http, bus, warehouse, env)
    server.should_exit = True
    await serving
    await bus.stop_consumers()
    await broker.stop()


FORGED = [
    ("run.dispatched.vm", {"run_id": "r1", "executor_id": "vm", "command": ["rm", "-rf", "/"]}),
    ("executor.run.ended", {"run_id": "r1", "executor_id": "vm", "exit_code": 0}),
    ("run.completed", {"run_id": "r1", "state": "completed", "at": "2026-12-07T10:00:00Z"}),
    ("dlq.run.requested", {"command": ["true"]}),
]


async def test_only_public_subjects_are_published_over_http(served: Served) -> None:
    for subject, data in FORGED:
        response = await served.http.post(f"/v1/events/{subject}", json=data)
        assert response.status_code == 403, (subject, response.text)
        assert response.json()["detail"].startswith(f"'{subject}' is not a public subject: ")
        assert "dataset.version.created, metric.logged, metrics.logged" in response.text
        assert "custom subjects under ext." in response.text

    public = [
        ("dataset.version.created", {"dataset": "sales", "uri": "s3://lake/sales/1"}),
        ("metric.logged", {"name": "accuracy", "value": 0.93}),
        ("ext.sales.updated", {"region": "eu"}),
    ]
    for subject, data in public:
        response = await served.http.post(f"/v1/events/{subject}", json=data)
        assert response.status_code == 202, (subject, response.text)
    # Nothing of the forged ones reached the bus: each stream holds just the public one.
    counts = [await served.count(s.name) for s in (EVENTS, TELEMETRY, CUSTOM, DEAD_LETTERS)]
    assert counts == [1, 1, 1, 0]


async def test_a_catalog_event_its_consumer_would_refuse_is_422_with_the_reason(
    served: Served,
) -> None:
    response = await served.http.post(
        "/v1/events/dataset.version.created", json={"dataset": "sales"}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "dataset.version.created: (body): an announced version needs the uri of its data"
    )

    bad_uri = await served.http.post(
        "/v1/events/dataset.version.created", json={"dataset": "sales", "uri": "s3://"}
    )
    assert bad_uri.status_code == 422
    assert bad_uri.json()["detail"] == (
        "dataset.version.created: uri: 's3://' is not a URI: s3:// needs a bucket or host"
    )

    bad_name = await served.http.post(
        "/v1/events/dataset.version.created", json={"dataset": "a/../b", "uri": "s3://b/k"}
    )
    assert bad_name.status_code == 422
    assert bad_name.json()["detail"].startswith(
        "dataset.version.created: dataset: dataset name 'a/../b' may only contain letters"
    )

    cli = await served.boxops("events", "publish", "dataset.version.created", '{"dataset": "x"}')
    assert cli.returncode == 2, cli.stdout + cli.stderr
    assert "an announced version needs the uri of its data" in cli.stderr
    assert cli.stdout == ""

    forged = await served.boxops("events", "publish", "executor.run.ended", '{"run_id": "r"}')
    assert forged.returncode == 2
    assert "'executor.run.ended' is not a public subject" in forged.stderr
    assert await served.count(EVENTS.name) == await served.count(DEAD_LETTERS.name) == 0


async def test_a_dead_letter_is_listed_shown_and_replayed_once_its_cause_is_fixed(
    served: Served,
) -> None:
    published = await served.http.post("/v1/events/ext.orders.placed", json={"order": "o-1"})
    event_id = published.json()["id"]
    [entry] = await served.dead_letters(1)
    assert entry["subject"] == "ext.orders.placed"
    assert entry["reason"] == (
        "handler failed 1 times: ConnectionError: warehouse store unreachable"
    )
    assert entry["consumer"] == "tests/warehouse"
    assert entry["data"] == {"order": "o-1"}
    assert entry["headers"]["ce-id"] == event_id

    listed = await served.boxops("dlq", "list", "--subject", "ext.orders.placed", "--json")
    assert json.loads(listed.stdout) == [entry], listed.stderr
    none = await served.boxops("dlq", "list", "--subject", "ext.other", "--json")
    assert json.loads(none.stdout) == []
    recent = await served.boxops("dlq", "list", "--since", "1h")
    assert "warehouse store unreachable" in recent.stdout
    future = await served.http.get("/v1/dlq", params={"since": "2999-01-01T00:00:00Z"})
    assert future.json() == []
    shown = await served.boxops("dlq", "show", str(entry["id"]))
    assert shown.returncode == 0, shown.stderr
    assert "reason: handler failed 1 times" in shown.stdout
    assert f"ce-id: {event_id}" in shown.stdout
    assert '"order": "o-1"' in shown.stdout

    served.warehouse.fixed = True
    replayed = await served.boxops("dlq", "replay", str(entry["id"]))
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout.strip() == f"replayed {entry['id']} on ext.orders.placed"
    await served.taken(["o-1"])
    assert (await served.http.get("/v1/dlq")).json() == []

    again = await served.boxops("dlq", "replay", str(entry["id"]))
    assert again.returncode == 2
    assert f"no dead letter {entry['id']}: never there, expired, or replayed already" in (
        again.stderr
    )
    # A later order is taken once: the replayed one did not come a second time.
    await served.http.post("/v1/events/ext.orders.placed", json={"order": "o-2"})
    await served.taken(["o-1", "o-2"])


async def test_a_replay_before_the_fix_is_dead_lettered_again_and_racing_replays_send_once(
    served: Served,
) -> None:
    for order in ("o-1", "o-2"):
        await served.http.post("/v1/events/ext.orders.placed", json={"order": order})
    first, second = await served.dead_letters(2)

    # Not fixed yet: the consumer re-reads it like any message and refuses it again.
    response = await served.http.post(f"/v1/dlq/{first['id']}/replay")
    assert response.status_code == 200, response.text
    kept, again = await served.dead_letters(2)
    assert kept == second
    assert (again["data"], again["reason"]) == (first["data"], first["reason"])
    assert again["id"] not in (first["id"], second["id"])

    served.warehouse.fixed = True
    races = await asyncio.gather(
        *(served.http.post(f"/v1/dlq/{again['id']}/replay") for _ in range(2))
    )
    outcomes = sorted(
        (r.status_code, r.json().get("duplicate") if r.status_code == 200 else None) for r in races
    )
    assert outcomes in ([(200, False), (200, True)], [(200, False), (404, None)])
    await served.taken(["o-1"])

    bulk = await served.boxops("dlq", "replay", "--subject", "ext.orders.placed")
    assert bulk.stdout.strip() == f"replayed {second['id']} on ext.orders.placed"
    await served.http.post("/v1/events/ext.orders.placed", json={"order": "o-3"})
    await served.taken(["o-1", "o-2", "o-3"])
    assert (await served.http.get("/v1/dlq")).json() == []


async def test_bad_dlq_requests_say_what_is_wrong(served: Served) -> None:
    assert (await served.boxops("dlq", "list")).stdout.strip() == "no dead letters"
    assert (await served.http.get("/v1/dlq/99")).status_code == 404
    since = await served.http.get("/v1/dlq", params={"since": "yesterday"})
    assert since.status_code == 422
    assert "'yesterday' is neither an ISO time nor a period such as 24h" in since.text
    both = await served.boxops("dlq", "replay", "7", "--subject", "x")
    assert (both.returncode, both.stderr.strip()) == (
        2,
        "give a dead letter's ID or --subject SUBJECT, not both",
    )


async def test_a_dead_letter_of_another_services_subject_is_not_replayed_by_the_gateway(
    served: Served,
) -> None:
    # As the registry would dead-letter a run.completed it could not take: replaying it
    # through the gateway would be the gateway forging the scheduler's event.
    body = json.dumps({"run_id": "r1", "state": "completed", "at": "2026-12-07T10:00:00Z"})
    headers = {REASON: "no such run", REJECTED_BY: "registry"}
    await served.bus.nats.publish(DLQ_PREFIX + "run.completed", body.encode(), headers)
    [entry] = await served.dead_letters(1)
    events = await served.count(EVENTS.name)
    for answer in (
        await served.http.post(f"/v1/dlq/{entry['id']}/replay"),
        await served.http.post("/v1/dlq/replay", params={"subject": "run.>"}),
    ):
        assert answer.status_code == 403, answer.text
        assert "only the service that owns run.completed publishes it" in answer.json()["detail"]
    assert await served.count(EVENTS.name) == events
    assert [e["id"] for e in (await served.http.get("/v1/dlq")).json()] == [entry["id"]]
