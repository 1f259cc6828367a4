"""Services as real processes for tests: start with settings in the environment, stop; and
the processes of a run, found by the variables it gave them."""

import json
import os
import subprocess
import sys
from pathlib import Path

import nats
import psutil

from shared.health import health_subject
from tests.conftest import eventually


def start_service(
    name: str, home: Path, *, standby: bool = False, **settings: object
) -> subprocess.Popen[bytes]:
    """`python -m services.<name>` with BOXOPS_<KEY> for each setting; output to a log file.
    On `standby` it imports the service, touches `<home>/<label>.standby` and waits for a
    line on its stdin (`go`) to start: a restart as quick as the embedded stack's, which
    forks services already imported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    env["BOXOPS_HOME"] = str(home)
    for key, value in settings.items():
        env[f"BOXOPS_{key.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    home.mkdir(parents=True, exist_ok=True)
    label = settings.get("executor_id", name)
    log = (home / f"{label}.log").open("ab")
    if standby:
        ready = home / f"{label}.standby"
        main = (
            f"import pathlib, sys, services.{name}.__main__ as m; pathlib.Path({str(ready)!r})"
            ".touch(); sys.stdin.readline(); m.main()"
        )
        command = [sys.executable, "-c", main]
    else:
        command = [sys.executable, "-m", f"services.{name}"]
    stdin = subprocess.PIPE if standby else None
    return subprocess.Popen(command, env=env, stdin=stdin, stdout=log, stderr=log)


def go(process: subprocess.Popen[bytes]) -> None:
    """Start a service waiting on standby."""
    assert process.stdin
    process.stdin.write(b"go\n")
    process.stdin.flush()


async def answers(client: nats.NATS, service: str) -> bool:
    """Whether the service answers its health request, started."""
    try:
        reply = await client.request(health_subject(service), b"{}", timeout=0.5)
    except Exception:
        return False
    return bool(json.loads(reply.data)["status"] == "ok")


def processes_of(run_id: str) -> list[psutil.Process]:
    """The living processes that carry the run's id in their environment."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get("BOXOPS_RUN_ID") == run_id:
                found.append(process)
        except psutil.Error:  # gone, a zombie, or not ours to read
            continue
    return found


async def none_left(run_id: str, timeout: float) -> None:
    """Wait until no process of the run is alive."""

    async def check() -> bool:
        return not processes_of(run_id)

    await eventually(check, timeout=timeout)
