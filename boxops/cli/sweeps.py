"""`boxops sweeps`: register hyper-parameter searches, list and show them."""

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from boxops.cli.common import JsonOption, console, print_json
from boxops.cli.registry import (
    LimitOption,
    OffsetOption,
    gateway_call,
    listing,
    spec_ref,
    when,
)
from boxops.cli.spec_files import register_spec

sweeps_app = typer.Typer(help="Hyper-parameter searches (Optuna): register, list, show.")


@sweeps_app.command()
def register(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="YAML spec.")],
    json_out: JsonOption = False,
) -> None:
    """Register a sweep. It is refused with each problem named (an empty space, low above
    high, an unknown sampler or pruner, a param its target does not take); its target is
    pinned to the component or pipeline version registered now."""
    register_spec(file, "sweep", json_out)


@sweeps_app.command("list")
def list_sweeps(
    prefix: Annotated[str | None, typer.Option(help="Only names starting so.")] = None,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    json_out: JsonOption = False,
) -> None:
    """The latest version of each sweep."""
    items = listing("sweeps", json_out, prefix=prefix, limit=limit, offset=offset)
    if items is None:
        return
    table = Table("name", "version", "target", "objective", "trials", "registered")
    for s in items:
        objective = s["spec"]["objective"]
        table.add_row(
            s["name"],
            str(s["version"]),
            s["target"],
            f"{objective['direction']} {objective['metric']}",
            str(s["spec"]["trials"]),
            when(s["created_at"]),
        )
    console.print(table)


@sweeps_app.command()
def show(
    ref: Annotated[str, typer.Argument(help="NAME or NAME@VERSION.")],
    json_out: JsonOption = False,
) -> None:
    """A sweep version: its target, search space and spec."""
    import yaml  # here: every command imports this module at start-up, few print YAML

    found = gateway_call("GET", "sweeps", *spec_ref(ref))
    if json_out:
        print_json(found)
        return
    console.print(f"[bold]{found['name']}@{found['version']}[/bold]  {found['digest']}")
    console.print(f"{found['target_kind']} {found['target']}")
    table = Table("param", "type", "values")
    for name, param in found["spec"]["space"].items():
        values = param.get("values") or f"{param['low']} … {param['high']}"
        table.add_row(name, param["type"], str(values))
    console.print(table)
    console.print(yaml.safe_dump(found["spec"], sort_keys=False).rstrip())
