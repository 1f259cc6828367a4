"""Every service but the executor as its own process, on PostgreSQL: a live gateway whose
runs are accepted and never executed (no executor, so nothing takes a run's command)."""

import asyncio
import contextlib
import secrets
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from boxops.stack import all_ok, ask_health
from tests.conftest import PG_URL, free_port, start_nats, wait_port
from tests.integration.processes import start_service

SERVICES = ("registry", "artifact", "scheduler", "trigger", "gateway")


@dataclass(frozen=True)
class LiveGateway:
    url: str
    token: str
    home: Path


@contextlib.contextmanager
def live_gateway(home: Path) -> Iterator[LiveGateway]:
    """Start NATS and the services, wait until each answers, stop them all afterwards."""
    nats, nats_url = start_nats(home / "nats")
    schema = "t_" + uuid.uuid4().hex[:12]
    port, token = free_port(), secrets.token_urlsafe(24)
    common = {
        "nats_url": nats_url,
        "db_url": PG_URL,
        "api_token": token,
        "run_token_secret": secrets.token_urlsafe(24),
        "artifact_url": (home / "blobs").as_uri(),
        "artifact_port": str(free_port()),
        "gateway_url": f"http://127.0.0.1:{port}",
        "port": str(port),
        # A fuzzed request for a server-sent stream ends soon instead of holding the fuzzer.
        "stream_max_s": "1",
    }
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for name in SERVICES:
            processes.append(start_service(name, home, db_schema=f"{schema}_{name}", **common))
        _wait_healthy(nats_url, processes)
        wait_port(port)
        yield LiveGateway(f"http://127.0.0.1:{port}", token, home)
    finally:
        for process in (*processes, nats):
            process.terminate()
        for process in (*processes, nats):
            process.wait(30)
        asyncio.run(_drop_schemas(schema))


def _wait_healthy(nats_url: str, processes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 60
    while not all_ok(asyncio.run(ask_health(nats_url, SERVICES, timeout=0.5))):
        dead = [p.args for p in processes if p.poll() is not None]
        if dead or time.monotonic() > deadline:
            raise RuntimeError(f"the stack did not become healthy; stopped: {dead}")
        time.sleep(0.1)


async def _drop_schemas(schema: str) -> None:
    connection = await asyncpg.connect(PG_URL)
    try:
        for name in SERVICES:
            await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}_{name}" CASCADE')
    finally:
        await connection.close()
