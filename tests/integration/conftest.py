"""In-process stacks of real services on a real nats-server and a real database."""

import asyncio
import importlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from boxops.nats_cluster import NatsCluster, start_cluster
from services.executor.app import build_app as build_executor
from services.executor.settings import ExecutorSettings
from services.gateway.app import build_app as build_gateway
from services.gateway.settings import GatewaySettings
from services.scheduler.app import build_app as build_scheduler
from services.scheduler.settings import SchedulerSettings
from services.trigger.settings import TriggerSettings
from shared.bus import now
from shared.db import create_engine, sessionmaker
from shared.migrate import upgrade
from shared.service import Service
from shared.settings import BoxopsSettings
from tests.conftest import eventually, service_db
from tests.integration.ray_loopback import loopback_ray

__all__ = ["loopback_ray"]  # one Ray cluster for the session's tests that use it

SCHEDULER_MIGRATIONS = Path("services/scheduler/migrations/versions")

TERMINAL = ("completed", "failed", "aborted")


@pytest.fixture
async def outbox_sessions(db: tuple[str, str]) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions of an empty database migrated as the scheduler's (it has the outbox and inbox)."""
    url, schema = db
    await upgrade(url, schema, SCHEDULER_MIGRATIONS)
    engine = create_engine(url, schema)
    yield sessionmaker(engine)
    await engine.dispose()


@dataclass
class Stack:
    scheduler: Service
    executor: Service | None
    gateway: FastAPI
    http: httpx.AsyncClient
    others: dict[str, Service] = field(default_factory=dict)

    @property
    def gateway_service(self) -> Service:
        return self.gateway.state.service  # type: ignore[no-any-return]


async def start_stack(
    nats_url: str,
    db: tuple[str, str],
    home: Path,
    tracing: TracerProvider | None = None,
    *,
    with_executor: bool = True,
    services: tuple[str, ...] = (),
) -> Stack:
    """Scheduler, executor and gateway; plus `services` (trigger, registry, artifact)."""
    common = {"nats_url": nats_url, "home": home}
    scheduler = build_scheduler(
        SchedulerSettings(**common, db_url=db[0], db_schema=db[1]), tracing=tracing
    )
    executor = (
        build_executor(
            ExecutorSettings(**common, executor_id="ex1", log_flush_s=0.02), tracing=tracing
        )
        if with_executor
        else None
    )
    gateway = build_gateway(GatewaySettings(**common), tracing=tracing)
    others = {name: build_other(name, common, db, tracing) for name in services}
    for service in (*others.values(), scheduler, executor, gateway.state.service):
        if service:
            await service.start()
    transport = httpx.ASGITransport(app=gateway)
    http = httpx.AsyncClient(transport=transport, base_url="http://gateway")
    return Stack(scheduler, executor, gateway, http, others)


def build_other(
    name: str, common: dict[str, Any], db: tuple[str, str], tracing: TracerProvider | None
) -> Service:
    module = importlib.import_module(f"services.{name}.app")
    settings_class = {"trigger": TriggerSettings}.get(name, BoxopsSettings)
    url, schema = service_db(db, name)
    settings = settings_class(**common, db_url=url, db_schema=schema)
    return module.build_app(settings, tracing=tracing)  # type: ignore[no-any-return]


async def stop_stack(stack: Stack) -> None:
    await stack.http.aclose()
    for service in (stack.gateway_service, stack.executor, stack.scheduler, *stack.others.values()):
        if service:
            await service.stop()


@pytest.fixture
async def stack(nats_url: str, db: tuple[str, str], tmp_path: Path) -> AsyncIterator[Stack]:
    running = await start_stack(nats_url, db, tmp_path / "home")
    yield running
    await stop_stack(running)


async def wait_run(
    http: httpx.AsyncClient, run_id: str, states: tuple[str, ...] = TERMINAL, timeout: float = 20
) -> dict[str, Any]:
    """GET the run until its state is one of `states`."""

    async def check() -> dict[str, Any] | None:
        response = await http.get(f"/v1/runs/{run_id}")
        if response.status_code == 200 and response.json()["state"] in states:
            return response.json()  # type: ignore[no-any-return]
        return None

    return await eventually(check, timeout=timeout)  # type: ignore[return-value]


async def submit(http: httpx.AsyncClient, **body: Any) -> str:
    response = await http.post("/v1/runs", json=body)
    assert response.status_code == 202, response.text
    return response.json()["id"]  # type: ignore[no-any-return]


async def caught_up(service: Service, timeout: float = 10) -> None:
    """Wait until each of `service`'s consumers has handled every message stored before
    now: whatever those messages caused in the service is written (and published) then."""
    since = now()

    async def check() -> bool:
        return all(loop.caught_up_at and loop.caught_up_at > since for loop in service.bus.loops)

    await eventually(check, timeout=timeout)


@pytest.fixture
async def scheduler_side(
    nats_url: str, db: tuple[str, str], tmp_path: Path
) -> AsyncIterator[Stack]:
    """Scheduler and gateway in this process, no executor: a test starts its own."""
    stack = await start_stack(nats_url, db, tmp_path / "gateway", with_executor=False)
    yield stack
    await stop_stack(stack)


@pytest.fixture
async def nats_cluster(tmp_path: Path) -> AsyncIterator[NatsCluster]:
    """Three nats-servers with JetStream routed to each other on loopback, with a meta
    leader; stopped at the end."""
    cluster = start_cluster(tmp_path / "cluster")
    try:
        await cluster.ready()
        yield cluster
    finally:
        await asyncio.to_thread(cluster.stop)
