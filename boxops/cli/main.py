"""`boxops`: start the embedded stack, see its state, work with runs.

What only some commands need is imported in them (asyncio: `up` and `status`), not here:
every command, `--help` included, pays for this module's imports at each start.
"""

import os
import signal
import sys
import time
from typing import Annotated

import typer
from rich.console import Console

from boxops.cli import embedded, triggers, usage
from boxops.cli.artifacts import artifacts_app
from boxops.cli.common import fail, print_json
from boxops.cli.components import components_app
from boxops.cli.creds import creds_app
from boxops.cli.datasets import datasets_app
from boxops.cli.dlq import dlq_app
from boxops.cli.executors import executors_app
from boxops.cli.hooks import hooks_app
from boxops.cli.logs import logs
from boxops.cli.models import models_app
from boxops.cli.pipelines import pipelines_app
from boxops.cli.quickstart import quickstart
from boxops.cli.runs import runs_app
from boxops.cli.tokens import tokens_app
from boxops.cli.ui import ui
from boxops.home import (
    credentials_file,
    home,
    operator_login,
    read_state,
    saved_nats_url,
    state_file,
)
from boxops.stack import SERVICES, Stack, all_ok, ask_health

app = typer.Typer(help="boxops: record, compose and trigger machine-learning black boxes.")
app.add_typer(runs_app, name="runs")
app.add_typer(artifacts_app, name="artifacts")
app.add_typer(datasets_app, name="datasets")
app.add_typer(models_app, name="models")
app.add_typer(components_app, name="components")
app.add_typer(creds_app, name="creds")
app.add_typer(pipelines_app, name="pipelines")
app.add_typer(triggers.build("triggers"), name="triggers")
app.add_typer(triggers.build("monitors"), name="monitors")
app.add_typer(triggers.events_app, name="events")
app.add_typer(tokens_app, name="tokens")
app.add_typer(hooks_app, name="hooks")
app.add_typer(dlq_app, name="dlq")
app.add_typer(executors_app, name="executors")
app.command()(quickstart)
app.command()(logs)
app.command()(ui)
console = Console()
err = Console(stderr=True)


@app.command()
def up(
    port: Annotated[int, typer.Option(help="Gateway HTTP port.")] = 8765,
    detach: Annotated[
        bool, typer.Option(help="Run in the background; return when healthy.")
    ] = False,
) -> None:
    """Start the embedded stack: NATS with JetStream and every service, on this machine."""
    import asyncio

    root = home()
    running = read_state(root)
    if running:
        fail(f"boxops already runs under {root} (pid {running.pid}, {running.gateway_url})")
    if detach:
        embedded.up_detached(root, port)
        return
    stack = Stack(root, port, report=lambda line: err.print(f"[yellow]{line}"))
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        stack.start()
        health = asyncio.run(stack.wait_healthy())
        embedded.print_status(stack.nats_url, stack.gateway_url, health)
        console.print("boxops is up; Ctrl-C stops it.")
        while not stopping:
            stack.supervise_once()
            time.sleep(0.2)
    except RuntimeError as error:
        fail(str(error))
    finally:
        stack.stop()
        console.print("boxops stopped.")


@app.command()
def down() -> None:
    """Stop the embedded stack started by `boxops up`."""
    root = home()
    state = read_state(root)
    if state is None:
        console.print(f"boxops is not running under {root}.")
        return
    os.kill(state.pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while state_file(root).exists() and read_state(root) and time.monotonic() < deadline:
        time.sleep(0.05)
    if read_state(root):
        fail(f"boxops (pid {state.pid}) did not stop within 60 s")
    console.print("boxops stopped.")


@app.command()
def status(json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Each service's state; exits 0 only if every service answers."""
    import asyncio

    root = home()
    state = read_state(root)
    nats_url = os.environ.get("BOXOPS_NATS_URL") or (state.nats_url if state else "")
    gateway_url = os.environ.get("BOXOPS_GATEWAY_URL") or (state.gateway_url if state else "")
    try:
        login = operator_login(root)
    except ValueError as error:
        fail(str(error))
    health = (
        asyncio.run(ask_health(nats_url, SERVICES, login=login))
        if nats_url
        else dict.fromkeys(SERVICES)
    )
    ingress = credentials_file(root, "ingress")
    if json_out:
        print_json(
            {
                "nats_url": nats_url or saved_nats_url(root),
                "ingress_credentials": str(ingress) if ingress.exists() else None,
                "gateway_url": gateway_url,
                "services": {name: embedded.service_state(r) for name, r in health.items()},
            }
        )
    else:
        embedded.print_status(nats_url or saved_nats_url(root) or "-", gateway_url or "-", health)
    if not all_ok(health):
        raise typer.Exit(1)


def main() -> None:
    """The `boxops` command (typer's usage errors as one red line: `boxops.cli.usage`)."""
    sys.exit(usage.run(app))


if __name__ == "__main__":
    main()
