"""`boxops pipelines`: register DAGs of component steps (from YAML or Python), export, list
and show them."""

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

pipelines_app = typer.Typer(help="DAGs of component steps: register, export, list, show.")


@pipelines_app.command()
def register(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="YAML spec, or a Python file.")
    ],
    git: Annotated[
        bool,
        typer.Option(help="Record the git repo, commit and path of a Python file's components."),
    ] = True,
    json_out: JsonOption = False,
) -> None:
    """Register a pipeline. It is refused with each problem named (cycles, unknown steps or
    components, outputs wired to inputs of another kind, missing required inputs); its
    steps are pinned to the component versions registered now. A Python file registers
    each pipeline it declares with @boxops.pipeline, its components first."""
    if file.suffix == ".py":
        from boxops.cli.python_specs import register_python

        register_python(file, "pipeline", json_out, git=git)
        return
    register_spec(file, "pipeline", json_out)


@pipelines_app.command()
def export(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Python file.")],
) -> None:
    """Print the YAML spec of each pipeline a Python file declares."""
    from boxops.cli.python_specs import export_python

    export_python(file, "pipeline")


@pipelines_app.command("list")
def list_pipelines(
    prefix: Annotated[str | None, typer.Option(help="Only names starting so.")] = None,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    json_out: JsonOption = False,
) -> None:
    """The latest version of each pipeline."""
    items = listing("pipelines", json_out, prefix=prefix, limit=limit, offset=offset)
    if items is None:
        return
    table = Table("name", "version", "steps", "registered", "description")
    for p in items:
        steps = ", ".join(f"{s}={c['name']}@{c['version']}" for s, c in p["components"].items())
        table.add_row(p["name"], str(p["version"]), steps, when(p["created_at"]), p["description"])
    console.print(table)


@pipelines_app.command()
def show(
    ref: Annotated[str, typer.Argument(help="NAME or NAME@VERSION.")],
    json_out: JsonOption = False,
) -> None:
    """A pipeline version: its steps, the component versions they run, its spec."""
    import yaml  # here: every command imports this module at start-up, few print YAML

    found = gateway_call("GET", "pipelines", *spec_ref(ref))
    if json_out:
        print_json(found)
        return
    console.print(f"[bold]{found['name']}@{found['version']}[/bold]  {found['digest']}")
    table = Table("step", "component", "after")
    graph = found["spec"]["steps"]
    for step, component in found["components"].items():
        after = ", ".join(graph[step].get("after", []))
        table.add_row(step, f"{component['name']}@{component['version']}", after)
    console.print(table)
    console.print(yaml.safe_dump(found["spec"], sort_keys=False).rstrip())
