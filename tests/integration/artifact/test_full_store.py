"""A full or read-only `file://` store answers 507 / 503 naming it, keeps no staged bytes of
a failed push, and records nothing half (issue 17 #5). The store is a real small tmpfs."""

import errno
import hashlib
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from boxops.artifacts import ArtifactError, LocalFile
from tests.conftest import eventually
from tests.integration.artifact.support import (
    ArtifactStack,
    artifact_settings,
    running,
    write_random,
)
from tests.integration.tmpfs import mount, small_tmpfs

MiB = 1024**2


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with small_tmpfs(tmp_path / "disk") as folder:
        yield folder


@pytest.fixture
async def stack(small_disk: Path, tmp_path: Path, nats_url: str) -> AsyncIterator[ArtifactStack]:
    settings = artifact_settings(
        "file", tmp_path / "home", nats_url, artifact_url=small_disk.as_uri()
    )
    async with running(settings, "file") as started:
        yield started


def _files(folder: Path, count: int, size: int) -> list[LocalFile]:
    folder.mkdir()
    return [
        LocalFile(write_random(folder / f"f{n}.bin", size, seed=n), f"f{n}.bin")
        for n in range(1, count + 1)
    ]


def _left(store: Path, folder: str) -> list[Path]:
    return [p for p in (store / folder).rglob("*") if p.is_file()]


async def test_a_full_store_answers_507_and_keeps_no_staged_bytes(
    stack: ArtifactStack, small_disk: Path, tmp_path: Path
) -> None:
    with pytest.raises(ArtifactError) as refused:
        await stack.client.put_files(_files(tmp_path / "big", 4, 2 * MiB))

    message = str(refused.value)
    assert "f" in message and ".bin: 507: blob store full (" in message, message
    assert "MiB free of 5.0 MiB)" in message, message
    assert _left(small_disk, "staging") == []  # released at once, not after a day
    assert await stack.client.listing() == []  # nothing of the failed push is recorded
    assert _left(small_disk, "blobs") == []

    [small] = _files(tmp_path / "small", 1, 300 * 1024)
    [blob] = await stack.client.put_files([small])
    back = await stack.client.get(blob.sha256, tmp_path / "back")
    assert back.read_bytes() == small.path.read_bytes()


async def test_one_put_through_the_gateway_to_a_full_store_is_a_507(
    stack: ArtifactStack, small_disk: Path, tmp_path: Path
) -> None:
    body = write_random(tmp_path / "six", 6 * MiB).read_bytes()
    digest = hashlib.sha256(body).hexdigest()
    response = await stack.client.api.put(f"/v1/artifacts/{digest}", content=body)

    assert response.status_code == 507, response.text
    assert response.json()["detail"].startswith("blob store full (")
    assert _left(small_disk, "staging") == []
    assert await stack.client.listing() == []


async def test_a_read_only_store_answers_503_and_works_again_once_writable(
    stack: ArtifactStack, small_disk: Path, tmp_path: Path
) -> None:
    big, small = _files(tmp_path / "files", 2, 2 * MiB)
    small.path.write_bytes(b"a small file goes in a bundle")
    assert mount("-o", "remount,ro", str(small_disk)).returncode == 0
    try:
        for local in (big, small):
            with pytest.raises(ArtifactError) as refused:
                await stack.client.put_files([local])
            assert str(refused.value).endswith(f"{local.name}: 503: blob store read-only")
        assert await stack.client.listing() == []
    finally:
        assert mount("-o", "remount,rw", str(small_disk)).returncode == 0

    stored = await stack.client.put_files([big, small])
    assert [b.name for b in stored] == ["f1.bin", "f2.bin"]


def _fill(path: Path) -> None:
    """Write to `path` until its disk is full."""
    with path.open("wb", buffering=0) as out:
        try:
            while out.write(b"\0" * 4096):
                pass
        except OSError as err:
            assert err.errno == errno.ENOSPC


async def test_a_preview_a_full_store_cannot_hold_waits_and_the_previewer_goes_on(
    stack: ArtifactStack, small_disk: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    first.write_text('{"n": 1}')
    second.write_text('{"n": 2}')
    with caplog.at_level(logging.WARNING, logger="services.artifact.previewer"):
        blob = await stack.client.put_file(first)  # its preview waits for a pause in uploads
        _fill(small_disk / "filler")

        async def postponed() -> bool:
            said = (r.getMessage() for r in caplog.records)
            return any("previews postponed: blob store full (" in line for line in said)

        await eventually(postponed)
    assert (await stack.client.stat(blob.sha256)).preview_status == "pending"

    (small_disk / "filler").unlink()
    later = await stack.client.put_file(second)
    shown = await stack.client.preview(later.sha256)  # asked for: made at once
    assert shown.status == "ready", shown
