"""In-process stacks of real services on a real nats-server and a real database."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from services.executor.app import build_app as build_executor
from services.executor.settings import ExecutorSettings
from services.gateway.app import build_app as build_gateway
from services.gateway.settings import GatewaySettings
from services.scheduler.app import build_app as build_scheduler
from services.scheduler.settings import SchedulerSettings
from shared.service import Service


@dataclass
class Stack:
    scheduler: Service
    executor: Service
    gateway: FastAPI
    http: httpx.AsyncClient

    @property
    def gateway_service(self) -> Service:
        return self.gateway.state.service  # type: ignore[no-any-return]


async def start_stack(
    nats_url: str, db: tuple[str, str], home: Path, tracing: TracerProvider | None = None
) -> Stack:
    common = {"nats_url": nats_url, "home": home}
    scheduler = build_scheduler(
        SchedulerSettings(**common, db_url=db[0], db_schema=db[1]), tracing=tracing
    )
    executor = build_executor(
        ExecutorSettings(**common, executor_id="ex1", log_flush_s=0.02), tracing=tracing
    )
    gateway = build_gateway(GatewaySettings(**common), tracing=tracing)
    for service in (scheduler, executor, gateway.state.service):
        await service.start()
    transport = httpx.ASGITransport(app=gateway)
    http = httpx.AsyncClient(transport=transport, base_url="http://gateway")
    return Stack(scheduler, executor, gateway, http)


async def stop_stack(stack: Stack) -> None:
    await stack.http.aclose()
    for service in (stack.gateway_service, stack.executor, stack.scheduler):
        await service.stop()


@pytest.fixture
async def stack(nats_url: str, db: tuple[str, str], tmp_path: Path) -> AsyncIterator[Stack]:
    running = await start_stack(nats_url, db, tmp_path / "home")
    yield running
    await stop_stack(running)
