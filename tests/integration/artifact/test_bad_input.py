"""Bad input is refused with a 4xx that names the problem, and nothing is kept: the same
suite on the file backend and on S3 (where moto, unlike S3, takes any body it is sent,
so the refusal comes at commit, from the service's own re-hash)."""

import asyncio
import hashlib
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from shared.artifacts import frame_header
from tests.conftest import eventually
from tests.integration.artifact.support import ArtifactStack, artifact_settings, running, s3_keys

BODY = b"0123456789" * 100
DIGEST = hashlib.sha256(BODY).hexdigest()


async def reserve(stack: ArtifactStack, **spec: Any) -> dict[str, Any]:
    answer = await stack.client.api.post("/v1/artifacts/uploads", json={"blobs": [spec]})
    assert answer.status_code == 200, answer.text
    return answer.json()[0]["upload"]  # type: ignore[no-any-return]


async def put(stack: ArtifactStack, target: dict[str, Any], body: bytes) -> httpx.Response:
    return await stack.client.data.put(target["url"], content=body, headers=target["headers"])


async def commit(stack: ArtifactStack, upload_id: str, sha256: str | None = None) -> Any:
    item = {"upload_id": upload_id} | ({"sha256": sha256} if sha256 else {})
    answer = await stack.client.api.post("/v1/artifacts/commits", json={"commits": [item]})
    assert answer.status_code == 200, answer.text
    return answer.json()[0]


def staged(stack: ArtifactStack) -> list[str]:
    """What uploads left in staging: must be empty once a bad upload is refused."""
    if stack.backend == "file":
        folder = Path(urlsplit(stack.settings.artifact_url).path) / "staging"
        return sorted(p.name for p in folder.iterdir())
    return s3_keys(stack.settings)


async def refused(stack: ArtifactStack, target: dict[str, Any], body: bytes, **commit_with: Any):
    """PUT, then commit if the PUT went through: whichever refuses, return (status, text)."""
    response = await put(stack, target, body)
    if response.status_code >= 400:
        return response.status_code, response.json()["detail"]
    result = await commit(stack, target["upload_id"], **commit_with)
    assert not result["ok"], result
    return result["status"], result["error"]


async def assert_nothing_kept(stack: ArtifactStack, *digests: str) -> None:
    """A refusal is answered once its bytes are gone (the file backend drops them as the
    PUT fails, the service aborts an upload it refuses at commit before it answers)."""
    assert (await stack.client.exists(list(digests))).present == []
    assert staged(stack) == []


async def test_bytes_that_do_not_match_the_declared_digest_are_refused(
    stack: ArtifactStack,
) -> None:
    wrong = hashlib.sha256(b"something else").hexdigest()
    target = await reserve(stack, size=len(BODY), sha256=wrong)
    status, text = await refused(stack, target, BODY)
    assert status == 400 and "sha256 mismatch" in text and wrong in text
    await assert_nothing_kept(stack, wrong, DIGEST)
    retry = await reserve(stack, size=len(BODY), sha256=DIGEST)
    assert (await put(stack, retry, BODY)).status_code == 200
    assert (await commit(stack, retry["upload_id"]))["blob"]["sha256"] == DIGEST


async def test_a_digest_given_at_commit_is_checked_the_same(stack: ArtifactStack) -> None:
    wrong = hashlib.sha256(b"something else").hexdigest()
    target = await reserve(stack, size=len(BODY))
    status, text = await refused(stack, target, BODY, sha256=wrong)
    assert status == 400 and "sha256 mismatch" in text
    await assert_nothing_kept(stack, wrong, DIGEST)


async def test_a_truncated_body_is_refused(stack: ArtifactStack) -> None:
    target = await reserve(stack, size=len(BODY), sha256=DIGEST)
    status, text = await refused(stack, target, BODY[:600])
    assert status == 400 and "truncated" in text and "600 of 1000" in text
    await assert_nothing_kept(stack, DIGEST)


async def test_a_body_longer_than_declared_is_refused(stack: ArtifactStack) -> None:
    target = await reserve(stack, size=100)
    status, text = await refused(stack, target, BODY, sha256=DIGEST)
    assert status in (400, 413) and ("longer than" in text or "declared 100" in text)
    await assert_nothing_kept(stack, DIGEST)


async def test_an_interrupted_upload_leaves_nothing_and_can_be_retried(
    stack: ArtifactStack,
) -> None:
    target = await reserve(stack, size=len(BODY), sha256=DIGEST)

    def receiving() -> bool:
        """On files the service itself reads the body (into a .part file); S3 takes it."""
        return stack.backend == "s3" or any(n.endswith(".part") for n in staged(stack))

    await asyncio.to_thread(_send_half_and_hang_up, target["url"], target["headers"], receiving)

    async def cleaned_up() -> bool:
        return staged(stack) == []

    await eventually(cleaned_up)
    assert (await stack.client.exists([DIGEST])).present == []
    assert (await put(stack, target, BODY)).status_code == 200
    assert (await commit(stack, target["upload_id"]))["blob"]["sha256"] == DIGEST


def _send_half_and_hang_up(url: str, headers: dict[str, str], received: Callable[[], bool]) -> None:
    parts = urlsplit(url)
    lines = [f"PUT {parts.path}?{parts.query} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{k}: {v}" for k, v in headers.items()] + [f"Content-Length: {len(BODY)}"]
    with socket.create_connection((parts.hostname, parts.port)) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + BODY[:300])
        deadline = time.monotonic() + 10
        while not received() and time.monotonic() < deadline:
            time.sleep(0.01)  # hang up once the receiver has the body in hand
        assert received(), "the body was never received"
    # closed mid-body: the server sees a client that went away


async def test_committing_before_sending_says_so_and_keeps_the_upload(
    stack: ArtifactStack,
) -> None:
    target = await reserve(stack, size=len(BODY), sha256=DIGEST)
    early = await commit(stack, target["upload_id"])
    assert early["status"] == 409 and "PUT them first" in early["error"]
    assert (await put(stack, target, BODY)).status_code == 200
    assert (await commit(stack, target["upload_id"]))["ok"]


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("../../etc/passwd", "could leave its root"),
        ("data/../../x", "could leave its root"),
        ("/etc/passwd", "absolute path"),
        ("a\x00b", "NUL"),
        ("a\\..\\b", "backslash"),
        ("a//b", "empty part"),
        ("x" * 300, "longer than 255"),
        ("a/" * 600, "limit is 1024"),
    ],
)
async def test_names_that_could_escape_the_root_are_refused(
    stack: ArtifactStack, name: str, problem: str
) -> None:
    spec = {"size": 1, "name": name}
    answer = await stack.client.api.post("/v1/artifacts/uploads", json={"blobs": [spec]})
    assert answer.status_code == 422 and problem in answer.text, answer.text


async def test_named_keys_and_digests_are_checked_at_the_gateway(stack: ArtifactStack) -> None:
    api = stack.client.api
    bind = await api.put("/v1/artifacts/names/runs/%2E%2E/%2E%2E/x", json={"sha256": DIGEST})
    assert bind.status_code == 422 and "could leave its root" in bind.text
    bad = await api.get("/v1/artifacts/not-a-digest/metadata")
    assert bad.status_code == 422 and "not a sha256" in bad.text
    exists = await api.post("/v1/artifacts/exists", json={"sha256": ["abc"]})
    assert exists.status_code == 422 and "not a sha256" in exists.text


@pytest.mark.parametrize("backend", ["file", "s3"])
async def test_blobs_over_the_size_limit_are_refused(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, nats_url: str
) -> None:
    moto = request.getfixturevalue("moto_endpoint") if backend == "s3" else None
    settings = artifact_settings(backend, tmp_path, nats_url, moto, max_blob_bytes=1000)
    async with running(settings, backend) as stack:
        spec = {"size": 1001, "sha256": DIGEST}
        answer = await stack.client.api.post("/v1/artifacts/uploads", json={"blobs": [spec]})
        assert answer.status_code == 413 and "over the limit of 1000 bytes" in answer.text
        assert staged(stack) == []


async def test_the_data_plane_takes_only_urls_the_service_signed(
    tmp_path: Path, nats_url: str
) -> None:
    async with running(artifact_settings("file", tmp_path, nats_url), "file") as stack:
        target = await reserve(stack, size=len(BODY), sha256=DIGEST)
        url = target["url"]
        unsigned = url.split("?")[0]
        tampered = url.replace("/uploads/", "/uploads/0")
        for bad in (unsigned, url[:-2] + "00", tampered):
            response = await stack.client.data.put(bad, content=BODY)
            assert response.status_code in (403, 404), (bad, response.text)
        assert staged(stack) == []


@pytest.mark.parametrize("backend", ["file", "s3"])
async def test_uploads_never_committed_expire_with_their_bytes(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, nats_url: str
) -> None:
    moto = request.getfixturevalue("moto_endpoint") if backend == "s3" else None
    ttl = {"upload_ttl_s": 0.5, "upload_sweep_s": 0.2}
    async with running(
        artifact_settings(backend, tmp_path, nats_url, moto, **ttl), backend
    ) as stack:
        target = await reserve(stack, size=len(BODY), sha256=DIGEST)
        assert (await put(stack, target, BODY)).status_code == 200
        assert staged(stack) != []
        for _ in range(100):
            if not staged(stack):
                break
            await asyncio.sleep(0.05)
        assert staged(stack) == []
        late = await commit(stack, target["upload_id"])
        assert late["status"] == 404 and "expired" in late["error"]


async def test_a_bundle_refuses_the_frame_that_does_not_match(
    tmp_path: Path, nats_url: str
) -> None:
    async with running(artifact_settings("file", tmp_path, nats_url), "file") as stack:
        good = await reserve(stack, size=len(BODY), sha256=DIGEST)
        wrong = await reserve(stack, size=4, sha256=hashlib.sha256(b"abcd").hexdigest())
        body = frame_header(good["upload_id"], len(BODY)) + BODY
        body += frame_header(wrong["upload_id"], 4) + b"abce"
        response = await stack.client.data.put(good["bundle_url"], content=body)
        first, second = response.json()
        assert first["ok"] and first["sha256"] == DIGEST
        assert second["status"] == 400 and "sha256 mismatch" in second["error"]
        assert len(staged(stack)) == 1  # the good one, waiting for its commit
        assert (await commit(stack, good["upload_id"]))["ok"]
        assert staged(stack) == []
        broken = await stack.client.data.put(good["bundle_url"], content=b"not a frame header")
        assert broken.status_code == 400 and "frame header" in broken.json()["detail"]
