"""Moving the files of a dataset or model version through the artifact store.

push: hash every file, ask whether a version with that manifest exists (then nothing is
sent), upload what the store lacks, register the manifest. pull: download every file into
a hidden folder beside the target, each checked against its sha256, and move the folder
into place only when all arrived — a failed pull leaves nothing behind.
"""

import asyncio
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from boxops.artifacts import (
    CHUNK,
    ArtifactError,
    AsyncArtifacts,
    LocalFile,
    files_under,
    sha256_of,
)
from boxops.cli.common import client, err, fail
from boxops.client import Client, GatewayError
from boxops.urls import api_path
from shared.events import FileEntry
from shared.manifest import digest
from shared.names import BadName, check_name

DOWNLOADS_AT_ONCE = 16


@contextmanager
def byte_progress(quiet: bool) -> Iterator[Progress]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(
        *columns, console=err, disable=quiet or not err.is_terminal, transient=True
    ) as bar:
        yield bar


def named(kind: str, name: str) -> str:
    """The name, checked by the gateway's rule before any file is hashed or sent."""
    try:
        return check_name(name, f"{kind} name")
    except BadName as error:
        fail(str(error))


def manifest(root: Path, quiet: bool) -> tuple[list[LocalFile], list[FileEntry]]:
    """Every file under root with its relative path, size and sha256."""
    try:
        local = files_under(root)
    except ArtifactError as error:
        fail(str(error))
    if not local:
        fail(f"{root} holds no files")
    with byte_progress(quiet) as bar:
        return local, hash_files(local, bar)


def hash_files(local: list[LocalFile], bar: Progress) -> list[FileEntry]:
    """The files' entries, with a "hashing" task on `bar` counting bytes (one big file is
    most of the work, not one of many)."""
    sizes = [file.path.stat().st_size for file in local]
    task = bar.add_task("hashing", total=sum(sizes))

    def hashed(file: LocalFile, size: int) -> FileEntry:
        sha256 = sha256_of(file.path, lambda done: bar.advance(task, done))
        return FileEntry(path=file.name, size=size, sha256=sha256)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 4) as pool:
        # Big files are hashed in threads (hashlib lets go of the GIL on them); a small
        # file costs less to hash than to hand to a thread.
        files = list(zip(local, sizes, strict=True))
        big = {i: pool.submit(hashed, *file) for i, file in enumerate(files) if file[1] > CHUNK}
        return [big[i].result() if i in big else hashed(*file) for i, file in enumerate(files)]


def existing(kind: str, name: str, entries: list[FileEntry]) -> dict[str, Any] | None:
    """The version of `name` holding exactly these files, if there is one."""
    params = {"digest": digest(entries), "limit": 1}
    try:
        page = client().request("GET", api_path(f"{kind}s", name, "versions"), params=params)
    except GatewayError as error:
        if error.status == 404:
            return None  # no such dataset or model yet
        fail(str(error))
    items = page.json()["items"]
    return items[0] if items else None


def upload(local: list[LocalFile], entries: list[FileEntry], quiet: bool) -> None:
    """Send the files the store lacks (it answers for each digest), with a progress bar."""
    gateway = client()
    total = sum(entry.size for entry in entries)

    hashed = [replace(f, sha256=e.sha256) for f, e in zip(local, entries, strict=True)]

    async def send(report: Callable[[int], None]) -> None:
        async with AsyncArtifacts(gateway.base_url, _token(gateway)) as store:
            await store.put_files(hashed, progress=report)

    with byte_progress(quiet) as bar:
        task = bar.add_task("uploading", total=total)
        try:
            asyncio.run(send(lambda sent: bar.advance(task, sent)))
        except ArtifactError as error:
            fail(f"upload failed: {error}")


def download(files: list[FileEntry], dest: Path, quiet: bool) -> None:
    """All of `files` into `dest` (a new or empty folder), or nothing at all."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        fail(f"{dest} exists and is not an empty folder")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.parent / f".{dest.name}.pull-{uuid.uuid4().hex[:8]}"
    gateway = client()
    try:
        with byte_progress(quiet) as bar:
            task = bar.add_task("downloading", total=sum(f.size for f in files))
            targets = _targets(files, staging)
            asyncio.run(_fetch_all(gateway, targets, lambda n: bar.advance(task, n)))
    except (ArtifactError, OSError) as error:
        shutil.rmtree(staging, ignore_errors=True)
        fail(f"pull failed, nothing was written to {dest}: {error}")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # Ctrl-C too: no half-pulled folder
        raise
    if dest.exists():
        dest.rmdir()
    staging.rename(dest)


def _targets(files: list[FileEntry], root: Path) -> list[tuple[FileEntry, Path]]:
    """Where each file goes, its folders made; a path leaving `root` is refused."""
    root.mkdir()
    inside = root.resolve()
    targets = []
    for entry in files:
        target = (root / entry.path).resolve()
        if not target.is_relative_to(inside):
            raise ArtifactError(f"{entry.path!r} would land outside {root}")
        target.parent.mkdir(parents=True, exist_ok=True)
        targets.append((entry, target))
    return targets


async def _fetch_all(
    gateway: Client, targets: list[tuple[FileEntry, Path]], report: Callable[[int], None]
) -> None:
    gate = asyncio.Semaphore(DOWNLOADS_AT_ONCE)
    async with AsyncArtifacts(gateway.base_url, _token(gateway)) as store:

        async def fetch(entry: FileEntry, target: Path) -> None:
            async with gate:
                try:
                    await store.get(entry.sha256, target, progress=report)
                except ArtifactError as error:
                    raise ArtifactError(f"{entry.path}: {error}") from None

        await asyncio.gather(*(fetch(entry, target) for entry, target in targets))


def _token(gateway: Client) -> str:
    return str(gateway.http.headers.get("authorization", "")).removeprefix("Bearer ")
