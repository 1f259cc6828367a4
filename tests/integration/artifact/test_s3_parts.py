"""On S3 a blob sent in parts stays where its parts were joined: no copy under its content
key, which would cost as much as the upload's completion. Downloads, previews and deletes
find it there, and the same bytes sent twice keep one object."""

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.integration.artifact.support import (
    ArtifactStack,
    artifact_settings,
    holding_answers,
    running,
    s3_keys,
    write_random,
)

MiB = 1024**2


@pytest.fixture
async def s3(tmp_path: Path, nats_url: str, moto_endpoint: str) -> AsyncIterator[ArtifactStack]:
    settings = artifact_settings(
        "s3",
        tmp_path / "home",
        nats_url,
        moto_endpoint,
        multipart_threshold_bytes=5 * MiB,
        part_bytes=5 * MiB,
    )
    async with running(settings, "s3") as stack:
        yield stack


UPLOADED = re.compile(r"store/blobs/uploads/[0-9a-f]{32}")


async def test_a_blob_sent_in_parts_stays_where_its_parts_were_joined(
    s3: ArtifactStack, tmp_path: Path
) -> None:
    source = tmp_path / "weights.npy"
    np.save(source, np.arange(1_600_000, dtype=np.float64))  # 12.2 MiB: three parts
    blob = await s3.client.put_file(source)

    bytes_keys = [k for k in s3_keys(s3.settings) if not k.startswith("store/previews/")]
    assert len(bytes_keys) == 1 and UPLOADED.fullmatch(bytes_keys[0]), bytes_keys
    metadata = (await s3.client.api.get(f"/v1/artifacts/{blob.sha256}/metadata")).json()
    assert metadata["sha256"] == blob.sha256 and "location" not in metadata  # service's own
    copy = await s3.client.get(blob.sha256, tmp_path / "copy.npy")
    assert copy.read_bytes() == source.read_bytes()
    preview = await s3.client.preview(blob.sha256)  # computed from the bytes where they are
    assert preview.status == "ready" and preview.preview
    assert preview.preview["shape"] == [1_600_000] and preview.preview["max"] == 1_599_999

    await s3.client.delete(blob.sha256)
    assert s3_keys(s3.settings) == []


async def _send_in_parts(stack: ArtifactStack, body: bytes) -> dict[str, Any]:
    """Reserve without a digest, PUT each part where the reservation says; the commit item."""
    api, data = stack.client.api, stack.client.data
    reserved = await api.post("/v1/artifacts/uploads", json={"blobs": [{"size": len(body)}]})
    target = reserved.json()[0]["upload"]
    assert len(target["parts"]) == 3
    done = []
    for part in target["parts"]:
        chunk = body[part["offset"] : part["offset"] + part["size"]]
        sent = await data.put(part["url"], content=chunk)
        assert sent.is_success, sent.text
        done.append({"number": part["number"], "etag": sent.headers["etag"]})
    digest = hashlib.sha256(body).hexdigest()
    return {"upload_id": target["upload_id"], "sha256": digest, "parts": done}


async def test_the_same_bytes_sent_in_parts_again_keep_one_object(
    s3: ArtifactStack, tmp_path: Path
) -> None:
    body = write_random(tmp_path / "big.bin", 11 * MiB).read_bytes()
    at_once = [await _send_in_parts(s3, body), await _send_in_parts(s3, body)]
    answer = await s3.client.api.post("/v1/artifacts/commits", json={"commits": at_once})
    assert answer.status_code == 200 and all(r["ok"] for r in answer.json()), answer.text
    later = await _send_in_parts(s3, body)
    again = await s3.client.api.post("/v1/artifacts/commits", json={"commits": [later]})
    assert again.json()[0]["ok"] and not again.json()[0]["blob"]["stored"]

    bytes_keys = [k for k in s3_keys(s3.settings) if not k.startswith("store/previews/")]
    assert len(bytes_keys) == 1 and UPLOADED.fullmatch(bytes_keys[0]), bytes_keys
    digest = hashlib.sha256(body).hexdigest()
    copy = await s3.client.get(digest, tmp_path / "copy.bin")
    assert copy.read_bytes() == body


async def test_an_upload_aborted_while_it_is_committed_makes_no_blob(
    tmp_path: Path, nats_url: str, moto_endpoint: str
) -> None:
    """The abort lands after the commit re-read the bytes (the answer to that GET is held
    back) and before it records the blob: the abort deletes the bytes, so the commit must
    not record a blob that points at nothing."""
    rereading = (b"GET ", b"/blobs/uploads/")
    async with holding_answers(moto_endpoint, *rereading) as proxy:
        settings = artifact_settings(
            "s3",
            tmp_path / "home",
            nats_url,
            moto_endpoint,
            s3_endpoint_url=proxy.url,  # the service's calls; clients send parts to S3 directly
            s3_public_endpoint_url=moto_endpoint,
            multipart_threshold_bytes=5 * MiB,
            part_bytes=5 * MiB,
        )
        async with running(settings, "s3") as stack:
            body = write_random(tmp_path / "big.bin", 11 * MiB).read_bytes()
            item = await _send_in_parts(stack, body)
            api = stack.client.api
            committing = asyncio.create_task(
                api.post("/v1/artifacts/commits", json={"commits": [item]})
            )
            await asyncio.wait_for(proxy.held.wait(), 30)  # the commit is re-reading the bytes
            aborted = await api.delete(f"/v1/artifacts/uploads/{item['upload_id']}")
            proxy.release()
            result = (await committing).json()[0]

            assert aborted.status_code == 200, aborted.text
            assert not result["ok"] and result["status"] == 409, result
            assert "aborted or expired while it was committed" in result["error"]
            metadata = await api.get(f"/v1/artifacts/{item['sha256']}/metadata")
            assert metadata.status_code == 404
            assert s3_keys(stack.settings) == []
