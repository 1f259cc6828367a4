"""Real parts for the artifact tests: moto's S3 server on loopback, the artifact service
on either backend, a gateway served over real HTTP (downloads follow real redirects)."""

import asyncio
import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from fastapi import FastAPI

from boxops.artifacts import AsyncArtifacts
from services.artifact.app import build_app as build_artifact
from services.artifact.dataplane import DataPlane
from services.artifact.settings import ArtifactSettings
from services.gateway.app import build_app as build_gateway
from services.gateway.settings import GatewaySettings
from shared.service import Service
from tests.conftest import wait_port

S3_KEYS = {"s3_access_key": "testing", "s3_secret_key": "testing", "s3_region": "us-east-1"}


def start_moto(port: int) -> subprocess.Popen[bytes]:
    """moto's S3 server as its own process, as a real S3 endpoint would be."""
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ | {"MOTO_ALLOW_NONEXISTENT_REGION": "true"},
    )
    wait_port(port, timeout=30)
    return process


def s3_client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=S3_KEYS["s3_access_key"],
        aws_secret_access_key=S3_KEYS["s3_secret_key"],
        region_name=S3_KEYS["s3_region"],
    )


def new_bucket(endpoint: str) -> str:
    name = f"boxops-{uuid.uuid4().hex[:12]}"
    s3_client(endpoint).create_bucket(Bucket=name)
    return name


def s3_keys(settings: ArtifactSettings) -> list[str]:
    """Every key under the store's prefix, asked of S3 itself (not through a test's proxy)."""
    url = urlsplit(settings.artifact_url)
    s3 = s3_client(settings.s3_public_endpoint_url or settings.s3_endpoint_url)
    listed = s3.list_objects_v2(Bucket=url.netloc, Prefix=url.path.strip("/") + "/")
    return sorted(o["Key"] for o in listed.get("Contents", []))


def artifact_settings(
    backend: str, home: Path, nats_url: str, moto: str | None = None, **extra: Any
) -> ArtifactSettings:
    common: dict[str, Any] = {
        "home": home,
        "nats_url": nats_url,
        "db_url": f"sqlite+aiosqlite:///{home / 'artifact.db'}",
        "artifact_port": 0,
    }
    if backend == "file":
        common["artifact_url"] = (home / "blobs").as_uri()
    else:
        assert moto
        common |= S3_KEYS | {"artifact_url": f"s3://{new_bucket(moto)}/store"}
        common["s3_endpoint_url"] = moto
    return ArtifactSettings(**(common | extra))


@dataclass
class ArtifactStack:
    backend: str
    settings: ArtifactSettings
    service: Service
    gateway: FastAPI
    gateway_url: str
    client: AsyncArtifacts

    @property
    def nats(self) -> Any:
        return self.gateway.state.service.broker


@contextlib.asynccontextmanager
async def running(settings: ArtifactSettings, backend: str) -> AsyncIterator[ArtifactStack]:
    service = build_artifact(settings)
    gateway = build_gateway(GatewaySettings(home=settings.home, nats_url=settings.nats_url))
    await service.start()
    await gateway.state.service.start()
    server = DataPlane(gateway, "127.0.0.1", 0)  # any ASGI app; the gateway's NATS side runs
    url = f"http://127.0.0.1:{await server.start()}"
    client = AsyncArtifacts(url)
    try:
        yield ArtifactStack(backend, settings, service, gateway, url, client)
    finally:
        await client.close()
        await server.stop()
        await gateway.state.service.stop()
        await service.stop()


def write_random(path: Path, size: int, seed: int = 0) -> Path:
    """A file of `size` pseudo-random bytes, written in chunks (never whole in memory)."""
    import random

    generator = random.Random(seed)
    with path.open("wb") as out:
        left = size
        while left:
            chunk = min(left, 1024**2)
            out.write(generator.randbytes(chunk))
            left -= chunk
    return path


async def wait_until(check: Any, timeout: float = 10.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.05)


@dataclass
class Proxy:
    """A proxy to S3 that holds back answers: `held` is set once one waits; each goes on
    after `hold_s`, or, without it, once the test calls `release()`."""

    url: str
    held: asyncio.Event
    released: asyncio.Event

    def release(self) -> None:
        self.released.set()


@contextlib.asynccontextmanager
async def holding_answers(
    target: str, method: bytes, marker: bytes, hold_s: float | None = None
) -> AsyncIterator[Proxy]:
    """A proxy to S3 that holds back the answer to a request whose request line starts
    with `method` and holds `marker`; the test sends the service's calls through it."""
    parsed = urlsplit(target)
    held, released = asyncio.Event(), asyncio.Event()

    async def let_go() -> None:
        if hold_s is None:
            await released.wait()
        else:
            await asyncio.sleep(hold_s)  # a slow answer is what such a test is about

    async def serve(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(parsed.hostname, parsed.port)
        holding = asyncio.Event()

        async def upstream() -> None:
            while data := await client_r.read(65536):
                if data.startswith(method) and marker in data.split(b"\r\n", 1)[0]:
                    holding.set()  # HTTP/1.1 without pipelining: the next answer is its
                server_w.write(data)
                await server_w.drain()
            server_w.close()

        async def downstream() -> None:
            while data := await server_r.read(65536):
                if holding.is_set():
                    holding.clear()
                    held.set()
                    await let_go()
                client_w.write(data)
                await client_w.drain()
            client_w.close()

        with contextlib.suppress(ConnectionError):
            await asyncio.gather(upstream(), downstream())

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield Proxy(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", held, released)
    finally:
        released.set()
        server.close()
    assert held.is_set(), "the proxy never held an answer back"
