"""An embedded stack for a benchmark: `boxops up --detach` in a temporary home."""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nats

from boxops.home import StackState, credentials_file, operator_login, read_state
from boxops.stack import SERVICES, ask_health
from shared.credentials import nats_login


def boxops(env: dict[str, str], *args: str) -> None:
    command = [sys.executable, "-m", "boxops.cli.main", *args]
    subprocess.run(command, env=env, check=True, capture_output=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def embedded(
    db_url: str | None = None, settings: dict[str, str] | None = None
) -> Iterator[tuple[Path, StackState, float]]:
    """(home, state, seconds `up` took); the stack is stopped afterwards. `settings` are
    BOXOPS_* variables for its services."""
    with tempfile.TemporaryDirectory() as directory:
        home = Path(directory)
        env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
        env |= settings or {}
        env["BOXOPS_HOME"] = str(home)
        if db_url:
            env["BOXOPS_DB_URL"] = db_url
        began = time.perf_counter()
        boxops(env, "up", "--detach", "--port", str(free_port()))
        took = time.perf_counter() - began
        state = read_state(home)
        assert state, "boxops up --detach returned but no stack runs"
        try:
            yield home, state, took
        finally:
            boxops(env, "down")


async def connect(home: Path, nats_url: str, identity: str = "admin") -> nats.NATS:
    """A client of the stack's bus as one of its identities (the operator's by default)."""
    return await nats.connect(nats_url, **nats_login(credentials_file(home, identity)))


async def service_pids(home: Path, state: StackState) -> dict[str, int]:
    """Each running service's process id, from its health answer."""
    health = await ask_health(state.nats_url, SERVICES, login=operator_login(home))
    return {name: json.loads(reply)["pid"] for name, reply in health.items() if reply}
