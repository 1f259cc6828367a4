"""The registry and the gateway on a real nats-server and a real database (SQLite or
PostgreSQL); events published and dead letters read through JetStream itself."""

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from boxops.artifacts import LocalFile
from services.gateway.app import build_app as build_gateway
from services.gateway.settings import GatewaySettings
from services.registry.app import build_app as build_registry
from services.registry.settings import RegistrySettings
from shared.bus import DEAD_LETTERS, EVENTS, Bus
from shared.service import Service
from tests.conftest import eventually
from tests.integration.executor_blobs import BlobStack, start_blob_stack, stop_blob_stack


@dataclass
class Registry:
    service: Service
    gateway: FastAPI
    http: httpx.AsyncClient
    store: BlobStack  # the artifact service the registry asks whether files are stored
    home: Path

    @property
    def lake(self) -> Path:
        """The declared root of external file:// data."""
        return self.home.parent / "lake"

    async def settled(self, name: str, version: int) -> dict[str, Any]:
        """The dataset version once its data is hashed (pinned or failed)."""

        async def done() -> dict[str, Any] | None:
            response = await self.http.get(f"/v1/datasets/{name}/versions/{version}")
            if response.status_code == 404:
                return None  # an announced version is not recorded yet
            found: dict[str, Any] = response.json()
            return None if found["state"] == "pinning" else found

        return await eventually(done)  # type: ignore[return-value]

    async def stored(self, *contents: bytes) -> list[str]:
        """Put these contents in the artifact store; their sha256s, in order."""
        folder = self.home / "to-store"
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for content in contents:
            path = folder / hashlib.sha256(content).hexdigest()
            path.write_bytes(content)
            paths.append(LocalFile(path, path.name))
        return [blob.sha256 for blob in await self.store.artifacts.put_files(paths)]

    @property
    def bus(self) -> Bus:
        return self.gateway.state.service.bus  # type: ignore[no-any-return]

    @property
    def js(self) -> Any:
        return self.bus.nats.jetstream

    async def publish(self, subject: str, data: Any, headers: dict[str, str] | None = None) -> None:
        """As another system would: a bare body, headers only if given."""
        body = data if isinstance(data, bytes) else json.dumps(data).encode()
        await self.js.publish(subject, body, headers=headers or None, stream=EVENTS.name)

    async def events(self, subject: str) -> list[dict[str, Any]]:
        """Every event on `subject` so far, oldest first."""
        return [json.loads(m.data) for m in await self.messages(EVENTS.name, subject)]

    async def dead_letters(self, count: int) -> list[Any]:
        async def enough() -> list[Any] | None:
            found = await self.messages(DEAD_LETTERS.name, "dlq.>")
            return found if len(found) >= count else None

        return await eventually(enough)  # type: ignore[return-value]

    async def messages(self, stream: str, subject: str) -> list[Any]:
        from nats.js.errors import NotFoundError

        found, seq = [], 1
        while True:
            try:
                message = await self.js.get_msg(stream, seq=seq, next=True, subject=subject)
            except NotFoundError:
                return found
            found.append(message)
            seq = (message.seq or seq) + 1


async def start_registry(
    nats_url: str, db: tuple[str, str], home: Path, settings: RegistrySettings | None = None
) -> Registry:
    url, schema = db
    lake = home.parent / "lake"  # the one root external file:// data may come from
    lake.mkdir(parents=True, exist_ok=True)
    service = build_registry(
        settings
        or RegistrySettings(
            nats_url=nats_url,
            home=home,
            db_url=url,
            db_schema=schema,
            external_file_roots=[lake],
        )
    )
    gateway = build_gateway(GatewaySettings(nats_url=nats_url, home=home))
    await service.start()
    await gateway.state.service.start()
    store = await start_blob_stack(nats_url, home / "store")
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gw")
    return Registry(service, gateway, http, store, home)


async def stop_registry(registry: Registry) -> None:
    await stop_blob_stack(registry.store)
    await registry.http.aclose()
    await registry.gateway.state.service.stop()
    await registry.service.stop()


@pytest.fixture
async def registry(nats_url: str, db: tuple[str, str], tmp_path: Path) -> AsyncIterator[Registry]:
    running = await start_registry(nats_url, db, tmp_path / "home")
    yield running
    await stop_registry(running)
