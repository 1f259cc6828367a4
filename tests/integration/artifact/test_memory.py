"""Gigabytes through a real artifact process: its peak RSS (VmHWM) stays flat.

The service runs as `python -m services.artifact`; the client generates the bytes on the
fly (nothing is held whole anywhere) and reads them back through the gateway's redirect.
"""

import hashlib
import os
import random
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest

from services.artifact.dataplane import DataPlane
from services.gateway.app import build_app as build_gateway
from services.gateway.settings import GatewaySettings
from tests.conftest import free_port
from tests.integration.artifact.support import S3_KEYS, new_bucket

GiB = 1024**3
RSS_LIMIT_MB = 200
CHUNK = 1024**2


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")


def start_artifact(home: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    with (home / "artifact.log").open("ab") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "services.artifact"],
            env=clean | env | {"BOXOPS_HOME": str(home)},
            stdout=log,
            stderr=log,
        )


async def wait_healthy(nats_url: str, process: subprocess.Popen[bytes]) -> None:
    client = await nats.connect(nats_url)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            assert process.poll() is None, "the artifact service exited"
            try:
                reply = await client.request("svc.artifact.health", b"{}", timeout=0.5)
                if b'"ok"' in reply.data:
                    return
            except (nats.errors.TimeoutError, nats.errors.NoRespondersError):
                pass
        raise AssertionError("the artifact service did not become healthy")
    finally:
        await client.close()


@pytest.fixture(params=["file", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    if request.param == "file":
        env = {"BOXOPS_ARTIFACT_URL": (tmp_path / "blobs").as_uri()}
        yield "file", env | {"BOXOPS_ARTIFACT_PORT": str(free_port())}
        return
    moto = request.getfixturevalue("moto_endpoint")
    env = {f"BOXOPS_{k.upper()}": v for k, v in S3_KEYS.items()}
    env |= {"BOXOPS_ARTIFACT_URL": f"s3://{new_bucket(moto)}/big", "BOXOPS_S3_ENDPOINT_URL": moto}
    yield "s3", env


@pytest.fixture
async def gateway_url(nats_url: str, tmp_path: Path) -> AsyncIterator[str]:
    gateway = build_gateway(GatewaySettings(home=tmp_path, nats_url=nats_url))
    await gateway.state.service.start()
    server = DataPlane(gateway, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{await server.start()}"
    await server.stop()
    await gateway.state.service.stop()


async def generated(size: int, hasher: Any) -> AsyncIterator[bytes]:
    block = random.Random(7).randbytes(CHUNK)
    for offset in range(0, size, CHUNK):
        chunk = block[: min(CHUNK, size - offset)]
        hasher.update(chunk)
        yield chunk


async def test_gigabytes_pass_through_in_flat_memory(
    backend: tuple[str, dict[str, str]], nats_url: str, gateway_url: str, tmp_path: Path
) -> None:
    name, env = backend
    size = GiB if name == "file" else GiB // 4  # moto is slow; 256 MiB still beats the budget
    database = f"sqlite+aiosqlite:///{tmp_path / 'artifact.db'}"
    process = start_artifact(
        tmp_path, env | {"BOXOPS_NATS_URL": nats_url, "BOXOPS_DB_URL": database}
    )
    try:
        await wait_healthy(nats_url, process)
        async with httpx.AsyncClient(base_url=gateway_url, timeout=300) as http:
            digest = await upload(http, size)
            assert await download_digest(http, digest) == digest
        peak = peak_rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(30)
    assert peak < RSS_LIMIT_MB, f"artifact service peaked at {peak:.0f} MB for {size} bytes"


async def upload(http: httpx.AsyncClient, size: int) -> str:
    """The raw protocol: reserve (size only), PUT the parts, commit with the digest."""
    reserved = await http.post("/v1/artifacts/uploads", json={"blobs": [{"size": size}]})
    target = reserved.json()[0]["upload"]
    hasher, parts = hashlib.sha256(), []
    pieces = (
        [(target["url"], 0, size)]
        if target["url"]
        else [(p["url"], p["offset"], p["size"]) for p in target["parts"]]
    )
    for number, (url, offset, length) in enumerate(pieces, start=1):
        body = generated_range(offset, length, hasher)
        sent = await http.put(url, content=body, headers={"content-length": str(length)})
        assert sent.status_code == 200, sent.text
        parts.append({"number": number, "etag": sent.headers.get("etag", "")})
    parts = parts if target["parts"] else []
    item = {"upload_id": target["upload_id"], "sha256": hasher.hexdigest(), "parts": parts}
    committed = await http.post("/v1/artifacts/commits", json={"commits": [item]})
    assert committed.status_code == 200 and committed.json()[0]["ok"], committed.text
    return hasher.hexdigest()


async def generated_range(offset: int, length: int, hasher: Any) -> AsyncIterator[bytes]:
    async for chunk in generated(length, hasher):
        yield chunk


async def download_digest(http: httpx.AsyncClient, digest: str) -> str:
    hasher = hashlib.sha256()
    async with http.stream("GET", f"/v1/artifacts/{digest}", follow_redirects=True) as response:
        assert response.status_code == 200
        async for chunk in response.aiter_raw(CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()
