"""Previews computed on commit, stored beside the blob, returned by
GET /v1/artifacts/{id}/preview: on both backends."""

import asyncio
import json
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from boxops.artifacts import LocalFile
from services.artifact.previewer import HOLD_MAX_S, QUIET_S
from services.artifact.reads import PREVIEW_WAIT_S
from tests.integration.artifact.support import ArtifactStack, wait_until


async def test_special_objects_get_previews_and_plain_bytes_none(
    stack: ArtifactStack, tmp_path: Path
) -> None:
    pd.DataFrame({"x": range(30), "y": [i * 0.5 for i in range(30)]}).to_parquet(
        tmp_path / "frame.parquet"
    )
    np.save(tmp_path / "weights.npy", np.arange(6).reshape(2, 3))
    Image.new("RGB", (300, 200)).save(tmp_path / "photo.png")
    matrix = {"kind": "confusion_matrix", "labels": ["cat", "dog"], "matrix": [[3, 1], [0, 5]]}
    (tmp_path / "cm.json").write_text(json.dumps(matrix))
    (tmp_path / "plain.bin").write_bytes(b"\x00" * 100)
    files = [
        LocalFile(tmp_path / name, name)
        for name in ("frame.parquet", "weights.npy", "photo.png", "cm.json", "plain.bin")
    ]
    blobs = {b.name: b for b in await stack.client.put_files(files)}
    assert blobs["frame.parquet"].preview_status == "pending"
    assert blobs["plain.bin"].preview_status == "none"

    async def ready(name: str) -> dict[str, object] | None:
        shown = await stack.client.preview(blobs[name].sha256)
        return shown.preview if shown.status == "ready" else None

    frame = await wait_until(lambda: ready("frame.parquet"), timeout=30)
    assert frame and frame["rows"] == 30 and len(frame["head"]) == 20  # type: ignore[arg-type]
    array = await wait_until(lambda: ready("weights.npy"), timeout=30)
    assert array and array["shape"] == [2, 3] and array["max"] == 5
    image = await wait_until(lambda: ready("photo.png"), timeout=30)
    assert image and (image["width"], image["height"]) == (300, 200)
    typed = await wait_until(lambda: ready("cm.json"), timeout=30)
    assert typed and typed["kind"] == "confusion_matrix"
    assert (await stack.client.stat(blobs["cm.json"].sha256)).preview_kind == "confusion_matrix"
    plain = await stack.client.preview(blobs["plain.bin"].sha256)
    assert (plain.status, plain.preview) == ("none", None)


async def test_a_file_that_cannot_be_read_gets_a_failed_preview_with_the_reason(
    stack: ArtifactStack, tmp_path: Path
) -> None:
    (tmp_path / "bad.npy").write_bytes(b"\x93NUMPY garbage")
    blob = await stack.client.put_file(tmp_path / "bad.npy")

    async def settled() -> object:
        shown = await stack.client.preview(blob.sha256)
        return shown if shown.status != "pending" else None

    shown = await wait_until(settled, timeout=30)
    assert shown.status == "failed" and "error" in shown.preview  # type: ignore[union-attr]


async def test_previews_wait_while_uploads_go_on_but_not_for_one_asked_for(
    stack: ArtifactStack, tmp_path: Path
) -> None:
    """Previews yield to a stream of uploads (no job longer than HOLD_MAX_S); a request
    lifts that."""
    loop = asyncio.get_running_loop()
    uploading = True
    streamed: list[tuple[str, float]] = []  # (sha256, when stored)

    async def keep_uploading() -> None:  # a new blob every 0.2 s, well inside QUIET_S
        n = 0
        while uploading:
            (tmp_path / f"more-{n}.json").write_text(json.dumps({"n": n}))
            blob = await stack.client.put_file(tmp_path / f"more-{n}.json")
            streamed.append((blob.sha256, loop.time()))
            n += 1
            await asyncio.sleep(0.2)

    (tmp_path / "asked.json").write_text(json.dumps({"asked": True}))
    (tmp_path / "left.json").write_text(json.dumps({"left": True}))
    asked = await stack.client.put_file(tmp_path / "asked.json")
    stream = asyncio.create_task(keep_uploading())
    try:
        await asyncio.sleep(QUIET_S / 2)
        began = loop.time()
        shown = await stack.client.preview(asked.sha256)  # waits up to PREVIEW_WAIT_S
        assert shown.status == "ready", "an asked-for preview waited for the uploads to stop"
        assert loop.time() - began < PREVIEW_WAIT_S
        assert shown.preview and shown.preview["value"] == {"asked": True}

        # Held: blobs stored well over QUIET_S ago, while the stream went on, wait still
        # (a small JSON's preview takes milliseconds once the worker runs).
        await asyncio.sleep(2 * QUIET_S)
        settled_before = loop.time() - 1.5 * QUIET_S
        older = [sha for sha, at in streamed if began < at < settled_before]
        statuses = [(await stack.client.stat(sha)).preview_status for sha in older]
        assert "pending" in statuses, f"no preview held while uploads went on: {statuses}"

        left = await stack.client.put_file(tmp_path / "left.json")
        stored_at = loop.time()

        async def ready() -> bool:
            return (await stack.client.stat(left.sha256)).preview_status == "ready"

        assert await wait_until(ready, timeout=HOLD_MAX_S + 10), "never made while uploads go on"
        assert loop.time() - stored_at < HOLD_MAX_S + 5  # held, but not for ever
        assert not stream.done(), "the uploads stopped before the preview was made"
    finally:
        uploading = False
        await stream
