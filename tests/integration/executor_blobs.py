"""The artifact service and a gateway on a real port: what the executor stores blobs in."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from boxops.artifacts import AsyncArtifacts
from services.artifact.app import build_app as build_artifact
from services.artifact.settings import ArtifactSettings
from services.gateway.app import build_app as build_gateway
from services.gateway.settings import GatewaySettings
from shared.service import Service
from tests.conftest import eventually, free_port

TOKEN = "api-token-for-tests"


@dataclass
class BlobStack:
    url: str
    artifacts: AsyncArtifacts
    service: Service
    server: uvicorn.Server
    serving: "asyncio.Task[None]"


async def start_blob_stack(nats_url: str, home: Path) -> BlobStack:
    settings = ArtifactSettings(
        nats_url=nats_url,
        home=home,
        artifact_url=(home / "blobs").as_uri(),
        artifact_port=0,
        db_url=f"sqlite+aiosqlite:///{home / 'artifact.db'}",
    )
    service = build_artifact(settings)
    await service.start()
    port = free_port()
    gateway = build_gateway(
        GatewaySettings(nats_url=nats_url, home=home, port=port, api_token=TOKEN)
    )
    server = uvicorn.Server(uvicorn.Config(gateway, port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())

    async def started() -> bool:
        return server.started

    await eventually(started, timeout=10)
    url = f"http://127.0.0.1:{port}"
    return BlobStack(url, AsyncArtifacts(url, TOKEN), service, server, serving)


async def stop_blob_stack(stack: BlobStack) -> None:
    await stack.artifacts.close()
    stack.server.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await stack.serving
    await stack.service.stop()


@pytest.fixture(name="blob_stack")
async def blob_stack_fixture(nats_url: str, tmp_path: Path) -> AsyncIterator[BlobStack]:
    stack = await start_blob_stack(nats_url, tmp_path / "store")
    yield stack
    await stop_blob_stack(stack)
