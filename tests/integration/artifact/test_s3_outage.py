"""S3 down or slow: requests fail with a clear 503 after a bounded retry, the service stays
up and answers everything that needs no S3."""

import asyncio
import hashlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.artifact.settings import ArtifactSettings
from shared.health import health_subject
from tests.conftest import free_port
from tests.integration.artifact.support import S3_KEYS, ArtifactStack, running

BODY = b"bytes that never reach S3"
DIGEST = hashlib.sha256(BODY).hexdigest()
BOUND_S = 15.0  # attempts times timeouts, with room to spare


@pytest.fixture
async def silent_endpoint() -> AsyncIterator[str]:
    """A TCP server that accepts connections and never answers: S3 at its slowest."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    for writer in held:
        writer.close()
    server.close()


def outage_settings(tmp_path: Path, nats_url: str, endpoint: str) -> ArtifactSettings:
    return ArtifactSettings(
        home=tmp_path,
        nats_url=nats_url,
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'artifact.db'}",
        artifact_url="s3://boxops/store",
        s3_endpoint_url=endpoint,
        s3_connect_timeout_s=0.5,
        s3_read_timeout_s=0.5,
        s3_max_attempts=2,
        **S3_KEYS,
    )


async def still_healthy(stack: ArtifactStack) -> None:
    reply = await stack.nats.request(b"{}", health_subject("artifact"), timeout=2)
    assert json.loads(reply.body)["status"] == "ok"


async def check_outage(stack: ArtifactStack, endpoint: str) -> None:
    api = stack.client.api
    small = await api.post("/v1/artifacts/uploads", json={"blobs": [{"size": len(BODY)}]})
    assert small.status_code == 200  # presigning needs no S3
    upload_id = small.json()[0]["upload"]["upload_id"]

    began = time.monotonic()
    big = await api.post("/v1/artifacts/uploads", json={"blobs": [{"size": 200 * 1024**2}]})
    assert big.status_code == 503, big.text
    assert endpoint in big.json()["detail"] and "2 tries" in big.json()["detail"]

    item = {"upload_id": upload_id, "sha256": DIGEST}
    committed = await api.post("/v1/artifacts/commits", json={"commits": [item]})
    result = committed.json()[0]
    assert (result["ok"], result["status"]) == (False, 503) and endpoint in result["error"]
    assert time.monotonic() - began < BOUND_S

    await still_healthy(stack)
    listed = await api.get("/v1/artifacts")
    assert listed.status_code == 200 and listed.json() == []


async def test_s3_down_fails_clearly_and_the_service_stays_up(
    tmp_path: Path, nats_url: str
) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    async with running(outage_settings(tmp_path, nats_url, endpoint), "s3") as stack:
        await check_outage(stack, endpoint)


async def test_s3_too_slow_fails_clearly_and_the_service_stays_up(
    tmp_path: Path, nats_url: str, silent_endpoint: str
) -> None:
    async with running(outage_settings(tmp_path, nats_url, silent_endpoint), "s3") as stack:
        await check_outage(stack, silent_endpoint)
