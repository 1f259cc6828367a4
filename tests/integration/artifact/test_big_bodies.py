"""Bodies of several MiB, which the data plane hashes and writes in a thread while it
receives the next MiB: refused and cut-off ones leave nothing either, on both backends."""

import asyncio
import hashlib
import random
import socket
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from tests.integration.artifact.support import ArtifactStack
from tests.integration.artifact.test_bad_input import (
    assert_nothing_kept,
    commit,
    put,
    refused,
    reserve,
)

BIG = random.Random(7).randbytes(3 * 1024**2 + 5)
BIG_DIGEST = hashlib.sha256(BIG).hexdigest()


async def test_a_big_body_that_does_not_match_its_digest_is_refused(stack: ArtifactStack) -> None:
    wrong = hashlib.sha256(b"something else").hexdigest()
    target = await reserve(stack, size=len(BIG), sha256=wrong)
    status, text = await refused(stack, target, BIG)
    assert status == 400 and f"received bytes hash to {BIG_DIGEST}" in text
    await assert_nothing_kept(stack, wrong, BIG_DIGEST)


async def test_a_big_body_cut_off_after_some_mib_leaves_nothing(stack: ArtifactStack) -> None:
    target = await reserve(stack, size=len(BIG), sha256=BIG_DIGEST)
    await asyncio.to_thread(_send_and_hang_up, target["url"], target["headers"], 5 * 1024**2 // 2)
    await assert_nothing_kept(stack, BIG_DIGEST)
    assert (await put(stack, target, BIG)).status_code == 200
    assert (await commit(stack, target["upload_id"]))["blob"]["sha256"] == BIG_DIGEST


async def test_a_chunked_body_over_its_size_is_cut_off_mid_stream(stack: ArtifactStack) -> None:
    if stack.backend != "file":
        pytest.skip("S3 takes no chunked presigned PUT; the data plane is the file backend's")
    target = await reserve(stack, size=2 * 1024**2, sha256=BIG_DIGEST)

    async def chunks() -> AsyncIterator[bytes]:  # no content-length: the limit is checked live
        for start in range(0, len(BIG), 256 * 1024):
            yield BIG[start : start + 256 * 1024]

    response = await stack.client.data.put(target["url"], content=chunks())
    assert response.status_code == 413 and "longer than the declared" in response.text
    await assert_nothing_kept(stack, BIG_DIGEST)


def _send_and_hang_up(url: str, headers: dict[str, str], sent: int) -> None:
    parts = urlsplit(url)
    lines = [f"PUT {parts.path}?{parts.query} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{k}: {v}" for k, v in headers.items()] + [f"Content-Length: {len(BIG)}"]
    with socket.create_connection((parts.hostname, parts.port)) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + BIG[:sent])
    # closed mid-body, with MiBs already hashed and written: nothing may stay
