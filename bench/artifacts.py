"""The artifact store's figures: a 1 GiB blob up and down, and many small files.

- file backend: `boxops.artifacts` put/get through the gateway (hash while sending, the
  data plane, commit with fsync; download by redirect, hash checked) against a plain file
  copy (shutil.copyfile + fsync) on the same disk;
- S3 backend: the same against plain aioboto3 (upload_file, get_object streamed to a file)
  to the same moto server (its own process on loopback);
- each also against what verification allows: the same plain transfer with every byte
  sha256-hashed once, in a thread alongside;
- sha256 alone: the source read and hashed, nothing written. Every byte stored is hashed
  at least once, so no verified transfer can be faster than this;
- 1,000 small files through `put_files` (file backend), files per second;
- the artifact service's peak RSS (VmHWM) after all that, per backend.

Every 1 GiB figure is the median of ROUNDS transfers, and each round runs plain, plain +
sha256 and ours one after the other, a different one first each round: a plain copy's speed
on a VM's disk moves by half from one run to the next (page cache and writeback, which the
one before leaves behind), and a moto server slows as it serves more.

Each service runs as its own process (`python -m services.…`), as in production.
"""

import asyncio
import contextlib
import hashlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aioboto3
import boto3
import nats

from bench.embedded import free_port
from boxops.artifacts import AsyncArtifacts, LocalFile, sha256_of
from boxops.stack import nats_binary

SIZE = 1024**3
CHUNK = 1024**2
SMALL_FILES = 1000
ROUNDS = 3
KEYS = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}
REGION = "us-east-1"


def mb_s(seconds: float, size: int = SIZE) -> float:
    return size / 1024**2 / seconds


def line(name: str, ours: float, plain: float, hashed: float) -> None:
    print(
        f"{name:<36} {ours:5.0f} MB/s  plain {plain:5.0f} MB/s ({100 * ours / plain:3.0f} %)"
        f"  plain+sha256 {hashed:5.0f} MB/s ({100 * ours / hashed:3.0f} %)"
    )


def timed(call: Callable[..., Any], *args: Any) -> float:
    began = time.perf_counter()
    call(*args)
    return time.perf_counter() - began


async def atimed(call: Callable[[], Any]) -> float:
    began = time.perf_counter()
    await call()
    return time.perf_counter() - began


class Rounds:
    """Times by name over the rounds; their medians."""

    def __init__(self) -> None:
        self.took: dict[str, list[float]] = {}

    def add(self, name: str, seconds: float) -> None:
        self.took.setdefault(name, []).append(seconds)

    def mb_s(self, name: str) -> float:
        return mb_s(statistics.median(self.took[name]))


def make_source(path: Path, size: int) -> Path:
    block = random.Random(1).randbytes(1024**2)
    with path.open("wb") as out:
        for offset in range(0, size, len(block)):
            out.write(block[: min(len(block), size - offset)])
    return path


def plain_copy(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
    with target.open("rb") as f:
        os.fsync(f.fileno())


class Hashing:
    """sha256 of a stream of chunks in a thread, one chunk behind the caller's I/O."""

    def __init__(self) -> None:
        self.hasher = hashlib.sha256()
        self.thread = ThreadPoolExecutor(1)
        self.pending: Future[None] | None = None

    def add(self, chunk: bytes) -> None:
        if self.pending:
            self.pending.result()
        self.pending = self.thread.submit(self.hasher.update, chunk)

    def digest(self) -> str:
        if self.pending:
            self.pending.result()
        self.thread.shutdown()
        return self.hasher.hexdigest()


def hashed_copy(source: Path, target: Path) -> str:
    """The plain copy, each byte hashed once alongside: what a verified copy can reach."""
    hashing = Hashing()
    with source.open("rb") as src, target.open("wb") as out:
        while chunk := src.read(CHUNK):
            hashing.add(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return hashing.digest()


def peak_rss_mb(pid: int) -> float:
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        if row.startswith("VmHWM:"):
            return int(row.split()[1]) / 1024
    return float("nan")


class Stack:
    """nats-server, the artifact service and the gateway, each its own process."""

    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        nats_port, self.port = free_port(), free_port()
        self.nats_url = f"nats://127.0.0.1:{nats_port}"
        base = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
        base |= {"BOXOPS_HOME": str(home), "BOXOPS_NATS_URL": self.nats_url}
        server = [nats_binary(), "-js", "-a", "127.0.0.1", "-p", str(nats_port)]
        self.nats = self._start([*server, "-sd", str(home / "nats")], base)
        time.sleep(0.5)
        self.artifact = self._start([sys.executable, "-m", "services.artifact"], base | env)
        gateway_env = base | {"BOXOPS_PORT": str(self.port)}
        self.gateway = self._start([sys.executable, "-m", "services.gateway"], gateway_env)

    def _start(self, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.home / f"{Path(command[-1]).name}.log").open("ab")
        return subprocess.Popen(command, env=env, stdout=log, stderr=log)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def ready(self) -> None:
        client = await nats.connect(self.nats_url)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                reply = await client.request("svc.artifact.health", b"{}", timeout=0.5)
                health = await client.request("svc.gateway.health", b"{}", timeout=0.5)
                if b'"ok"' in reply.data and b'"ok"' in health.data:
                    break
            await asyncio.sleep(0.1)
        await client.close()
        await asyncio.sleep(0.5)  # the gateway's HTTP side listens right after its NATS side

    def stop(self) -> None:
        for process in (self.gateway, self.artifact, self.nats):
            process.terminate()
            process.wait(30)


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(2)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(30)


async def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        source = make_source(work / "source.bin", SIZE)
        await _file_backend(work, source)
        with moto_server() as endpoint:
            await _s3_backend(work, source, endpoint)


async def _file_backend(work: Path, source: Path) -> None:
    env = {"BOXOPS_ARTIFACT_URL": (work / "blobs").as_uri()}
    env["BOXOPS_ARTIFACT_PORT"] = str(free_port())
    stack = Stack(work / "file-stack", env)
    rounds = Rounds()
    try:
        await stack.ready()
        async with AsyncArtifacts(stack.url) as client:
            for turn in range(ROUNDS):
                rounds.add("sha256", timed(sha256_of, source))
                for name in _order(turn):
                    if name == "ours":
                        await _transfer(client, source, work / "back.bin", rounds)
                        continue
                    copy = plain_copy if name == "plain" else hashed_copy
                    rounds.add(f"{name} up", timed(copy, source, work / "up.bin"))
                    rounds.add(f"{name} down", timed(copy, work / "up.bin", work / "down.bin"))
                    for leftover in ("up.bin", "down.bin"):
                        (work / leftover).unlink()
        _lines("file backend", rounds)
        print(f"{'sha256 alone (read + hash, no write)':<36} {rounds.mb_s('sha256'):5.0f} MB/s")
        await _small_files(stack.url, work)
        print(f"{'artifact service peak RSS (file)':<44} {peak_rss_mb(stack.artifact.pid):8.0f} MB")
    finally:
        stack.stop()
        shutil.rmtree(work / "blobs", ignore_errors=True)


def _order(turn: int) -> list[str]:
    """Who goes first turns round: each goes first, second and last once in three rounds."""
    contenders = ["plain", "hashed", "ours"]
    return contenders[turn % 3 :] + contenders[: turn % 3]


def _lines(backend: str, rounds: Rounds) -> None:
    for way in ("up", "down"):
        name = f"{backend}, {'upload' if way == 'up' else 'download'} 1 GiB"
        ours, plain, hashed = (rounds.mb_s(f"{n} {way}") for n in ("ours", "plain", "hashed"))
        line(name, ours, plain, hashed)


async def _transfer(client: AsyncArtifacts, source: Path, back: Path, rounds: Rounds) -> None:
    """One upload and download; the blob is deleted after, so every upload sends its bytes."""
    began = time.perf_counter()
    blob = await client.put_file(source)
    rounds.add("ours up", time.perf_counter() - began)
    began = time.perf_counter()
    await client.get(blob.sha256, back)
    rounds.add("ours down", time.perf_counter() - began)
    await client.delete(blob.sha256)
    await asyncio.to_thread(back.unlink)


async def _small_files(url: str, work: Path) -> None:
    folder = work / "small"
    folder.mkdir()
    files = []
    for n in range(SMALL_FILES):
        path = folder / f"f{n:05}.txt"
        path.write_bytes(random.Random(n).randbytes(random.Random(n).randint(100, 4096)))
        files.append(LocalFile(path, path.name))
    async with AsyncArtifacts(url) as client:
        took = await atimed(lambda: client.put_files(files))
    print(f"{'small files (0.1-4 KiB), put_files':<44} {SMALL_FILES / took:8.0f} files/s")


async def _s3_backend(work: Path, source: Path, endpoint: str) -> None:
    bucket = f"bench-{random.randrange(1 << 30)}"
    boto3.client("s3", endpoint_url=endpoint, region_name=REGION, **KEYS).create_bucket(
        Bucket=bucket
    )
    env = {
        "BOXOPS_ARTIFACT_URL": f"s3://{bucket}/boxops",
        "BOXOPS_S3_ENDPOINT_URL": endpoint,
        "BOXOPS_S3_ACCESS_KEY": KEYS["aws_access_key_id"],
        "BOXOPS_S3_SECRET_KEY": KEYS["aws_secret_access_key"],
    }
    stack = Stack(work / "s3-stack", env)
    rounds = Rounds()
    try:
        await stack.ready()
        session = aioboto3.Session(region_name=REGION, **KEYS)
        async with (
            session.client("s3", endpoint_url=endpoint) as s3,
            AsyncArtifacts(stack.url) as client,
        ):
            for turn in range(ROUNDS):
                for name in _order(turn):
                    if name == "ours":
                        await _transfer(client, source, work / "back.bin", rounds)
                        continue
                    up, down = await _plain_s3(s3, bucket, source, work / "plain.bin", name)
                    rounds.add(f"{name} up", up)
                    rounds.add(f"{name} down", down)
        _lines("S3 backend (moto)", rounds)
        print(f"{'artifact service peak RSS (S3)':<44} {peak_rss_mb(stack.artifact.pid):8.0f} MB")
    finally:
        stack.stop()


async def _plain_s3(
    s3: Any, bucket: str, source: Path, back: Path, name: str
) -> tuple[float, float]:
    """Times of upload_file and a streamed get_object; for "hashed", each byte also hashed
    once (the file in a thread while it uploads, the download's chunks as they arrive)."""
    hashing = name == "hashed"

    async def upload() -> None:
        sending = s3.upload_file(str(source), bucket, "plain")
        if hashing:
            await asyncio.gather(sending, asyncio.to_thread(sha256_of, source))
        else:
            await sending

    async def download() -> None:
        response = await s3.get_object(Bucket=bucket, Key="plain")
        hashes = Hashing() if hashing else None
        with back.open("wb") as out:
            async for chunk in response["Body"].iter_chunks(CHUNK):
                if hashes:
                    hashes.add(chunk)
                out.write(chunk)
        if hashes:
            hashes.digest()

    up, down = await atimed(upload), await atimed(download)
    await s3.delete_object(Bucket=bucket, Key="plain")
    await asyncio.to_thread(back.unlink)
    return up, down
