"""The gateway served by uvicorn on a real port, in front of the scheduler, the registry and
the trigger service: what the CLI (a separate process) and a plain HTTP client talk to."""

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from services.gateway.app import build_app as build_gateway
from services.gateway.settings import GatewaySettings
from services.scheduler.app import build_app as build_scheduler
from services.scheduler.settings import SchedulerSettings
from tests.conftest import eventually, free_port
from tests.integration.conftest import build_other

TOKEN = "token-for-tests"
CLI_TIMEOUT_S = 60


@dataclass
class Served:
    url: str
    home: Path
    http: httpx.AsyncClient  # with the token
    gateway: FastAPI

    def env(self, **extra: str) -> dict[str, str]:
        """The CLI's environment: no BOXOPS_* of this machine, the served gateway and token."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
        return (
            env
            | {
                "BOXOPS_HOME": str(self.home),
                "BOXOPS_GATEWAY_URL": self.url,
                "BOXOPS_API_TOKEN": TOKEN,
                "COLUMNS": "200",
            }
            | extra
        )

    async def boxops(self, *args: str, env: dict[str, str] | None = None) -> Any:
        """`boxops ARGS…` as its own process; the CompletedProcess."""
        return await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "boxops.cli.main", *args],
            env=env or self.env(),
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
        )


@pytest.fixture
async def served(nats_url: str, tmp_path: Path) -> AsyncIterator[Served]:
    """SQLite only: these tests are about the gateway and the CLI, not the dialects."""
    home = tmp_path / "home"
    common: dict[str, Any] = {"nats_url": nats_url, "home": home}
    db = (f"sqlite+aiosqlite:///{tmp_path / 'scheduler.db'}", "main")
    scheduler = build_scheduler(SchedulerSettings(**common, db_url=db[0], db_schema=db[1]))
    others = [build_other(name, common, db, None) for name in ("registry", "trigger")]
    port = free_port()
    gateway = build_gateway(GatewaySettings(**common, port=port, api_token=TOKEN))
    server = uvicorn.Server(uvicorn.Config(gateway, port=port, log_level="warning"))
    for service in (*others, scheduler):
        await service.start()
    serving = asyncio.create_task(server.serve())
    await eventually(lambda: _started(server), timeout=10)
    url = f"http://127.0.0.1:{port}"
    http = httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"})
    yield Served(url, home, http, gateway)
    await http.aclose()
    server.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await serving
    for service in (scheduler, *others):
        await service.stop()


async def _started(server: uvicorn.Server) -> bool:
    return server.started
