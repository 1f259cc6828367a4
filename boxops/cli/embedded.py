"""The embedded stack seen from the CLI: start it in the background, show its health.

Used by `boxops up --detach`, `boxops status` and `boxops quickstart`.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

from rich.table import Table

from boxops.cli.common import console, err, fail
from boxops.home import operator_login, read_state
from boxops.stack import SERVICES, all_ok, ask_health


def up_detached(root: Path, port: int) -> None:
    """Start `boxops up` as its own session and return once every service answers."""
    import asyncio  # here: every command imports this module, few need an event loop

    log = root / "logs" / "up.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        # This Python running boxops itself: an argument list, no shell.
        child = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "boxops.cli.main", "up", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # outlives this shell and its Ctrl-C
        )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if child.poll() is not None:
            err.print(_tail(log), markup=False, highlight=False)  # what it said, then why
            fail(f"boxops up failed; see {log}")
        state = read_state(root)
        if state and state.pid == child.pid:
            login = operator_login(root)
            health = asyncio.run(ask_health(state.nats_url, SERVICES, 0.5, login))
            if all_ok(health):
                print_status(state.nats_url, state.gateway_url, health)
                return
        time.sleep(0.05)
    fail(f"boxops did not become healthy within 90 s; see {log}")


def service_state(reply: bytes | None) -> dict[str, object]:
    if reply is None:
        return {"status": "down"}
    return json.loads(reply)


def print_status(nats_url: str, gateway_url: str, health: dict[str, bytes | None]) -> None:
    """The NATS URL first: it is where other systems publish, and stays across restarts."""
    console.print(f"nats     {nats_url}\ngateway  {gateway_url}")
    table = Table("service", "state", "since")
    for name, reply in health.items():
        info = service_state(reply)
        colour = "green" if info["status"] == "ok" else "red"
        table.add_row(name, f"[{colour}]{info['status']}", str(info.get("started_at") or "-"))
    console.print(table)


def _tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
