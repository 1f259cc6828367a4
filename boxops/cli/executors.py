"""`boxops executors list`: each executor, its capacity, its runs and its GPUs free or busy."""

from typing import Any

import typer
from rich.table import Table

from boxops.cli.common import JsonOption, call, client, console, print_json

executors_app = typer.Typer(help="Executors: what each offers and runs.")


@executors_app.command("list")
def listing(json_out: JsonOption = False) -> None:
    """Executors the scheduler has heard from: alive, backends, capacity, runs, GPUs."""
    found = call(client().request, "GET", "/v1/executors").json()
    if json_out:
        print_json(found)
        return
    if not found:
        console.print("no executor has sent a heartbeat")
        return
    table = Table("executor", "state", "backends", "capacity", "runs", "gpus")
    for executor in found:
        table.add_row(*row(executor))
    console.print(table)


def row(executor: dict[str, Any]) -> list[str]:
    state = "stopping" if executor["stopping"] else "alive" if executor["alive"] else "lost"
    has = executor["capacity"]
    capacity = f"cpu {has['cpu']:g}, {has['memory_mb']} MiB, {executor['slots']} slots"
    runs = f"{len(executor['running'])}"
    return [executor["id"], state, ", ".join(executor["backends"]), capacity, runs, gpus(executor)]


def gpus(executor: dict[str, Any]) -> str:
    """`0 free, 1 busy (run r1)`, one device a line; `-` for none."""
    lines = []
    for device in executor.get("devices", []):
        name = f" {device['name']}" if device.get("name") else ""
        held = f"busy (run {device['run_id']})" if device.get("run_id") else "free"
        lines.append(f"{device['id']}{name}: {held}")
    return "\n".join(lines) or "-"
