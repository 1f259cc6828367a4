"""A stack whose gateway listens on a real port, so black boxes can reach it: scheduler,
gateway (uvicorn) and executor sharing a run-token secret."""

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from services.executor.app import build_app as build_executor
from services.executor.settings import ExecutorSettings
from services.gateway.app import build_app as build_gateway
from services.gateway.listen import sockets
from services.gateway.settings import GatewaySettings
from services.scheduler.app import build_app as build_scheduler
from services.scheduler.settings import SchedulerSettings
from shared.service import Service
from tests.conftest import eventually, free_port

TOKEN = "api-token-for-tests"
SECRET = "run-token-secret-for-tests"


@dataclass
class SdkStack:
    url: str
    http: httpx.AsyncClient
    scheduler: Service
    executor: Service
    server: uvicorn.Server
    serving: "asyncio.Task[None]"


async def start_sdk_stack(
    nats_url: str, home: Path, sdk_socket: Path | None = None, **executor_settings: Any
) -> SdkStack:
    """`sdk_socket`: the gateway's Unix socket, which sandboxed runs reach it through."""
    common: dict[str, Any] = {"nats_url": nats_url, "home": home, "sdk_socket": sdk_socket}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    scheduler = build_scheduler(
        SchedulerSettings(**common, db_url=f"sqlite+aiosqlite:///{home / 'scheduler.db'}")
    )
    executor_settings = {"gateway_url": url, **executor_settings}
    executor = build_executor(
        ExecutorSettings(
            **common,
            executor_id="ex-sdk",
            log_flush_s=0.02,
            api_token=TOKEN,
            run_token_secret=SECRET,
            **executor_settings,
        )
    )
    settings = GatewaySettings(**common, port=port, api_token=TOKEN, run_token_secret=SECRET)
    gateway = build_gateway(settings)
    config = uvicorn.Config(gateway, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    await scheduler.start()
    await executor.start()
    serving = asyncio.create_task(server.serve(sockets=sockets(config, settings)))
    await eventually(lambda: _started(server), timeout=10)
    http = httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"})
    return SdkStack(url, http, scheduler, executor, server, serving)


async def _started(server: uvicorn.Server) -> bool:
    return server.started


async def stop_sdk_stack(stack: SdkStack) -> None:
    await stack.http.aclose()
    await stack.executor.stop()
    stack.server.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await stack.serving
    await stack.scheduler.stop()


@pytest.fixture(name="sdk_stack")
async def sdk_stack_fixture(nats_url: str, tmp_path: Path) -> AsyncIterator[SdkStack]:
    # A short path of its own: a Unix socket's is at most 107 bytes.
    with tempfile.TemporaryDirectory(prefix="boxops-sdk-") as sockets_dir:
        stack = await start_sdk_stack(nats_url, tmp_path / "home", Path(sockets_dir) / "gw.sock")
        yield stack
        await stop_sdk_stack(stack)
