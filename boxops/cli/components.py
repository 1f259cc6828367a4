"""`boxops components`: register YAML specs (or Python files declaring components) as
immutable versions, export, list and show them.

PyYAML is imported by the commands that read or print YAML: every `boxops` command, these
or not, imports this module at start-up.
"""

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from boxops.cli.common import JsonOption, console, print_json, read_spec
from boxops.cli.registry import (
    LimitOption,
    OffsetOption,
    gateway_call,
    listing,
    spec_ref,
    when,
)
from boxops.cli.spec_files import code_of, register_spec

components_app = typer.Typer(help="Reusable black boxes: register, export, list, show.")


@components_app.command()
def register(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="YAML spec, or a Python file.")
    ],
    git: Annotated[
        bool, typer.Option(help="Record the git repo, commit and path the spec lies in.")
    ] = True,
    json_out: JsonOption = False,
) -> None:
    """Register a component; the same content keeps its version, changed content gets a new
    one. From a git checkout the repo, commit and path are recorded with it. A Python file
    registers each component it declares with @boxops.component."""
    import yaml

    if file.suffix == ".py":
        from boxops.cli.python_specs import register_python

        register_python(file, "component", json_out, git=git)
        return

    spec = yaml.safe_load(read_spec(file))
    code = code_of(file) if git and isinstance(spec, dict) and "code" not in spec else None
    register_spec(file, "component", json_out, {"code": code} if code else None)


@components_app.command()
def export(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Python file.")],
) -> None:
    """Print the YAML spec of each component a Python file declares."""
    from boxops.cli.python_specs import export_python

    export_python(file, "component")


@components_app.command("list")
def list_components(
    type: Annotated[str | None, typer.Option(help="Only this type, e.g. training.")] = None,
    prefix: Annotated[str | None, typer.Option(help="Only names starting so.")] = None,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    json_out: JsonOption = False,
) -> None:
    """The latest version of each component."""
    items = listing("components", json_out, type=type, prefix=prefix, limit=limit, offset=offset)
    if items is None:
        return
    table = Table("name", "version", "type", "registered", "description")
    for c in items:
        table.add_row(
            c["name"], str(c["version"]), c["type"], when(c["created_at"]), c["description"]
        )
    console.print(table)


@components_app.command()
def show(
    ref: Annotated[str, typer.Argument(help="NAME or NAME@VERSION.")],
    json_out: JsonOption = False,
) -> None:
    """A component version and its spec."""
    import yaml

    found = gateway_call("GET", "components", *spec_ref(ref))
    if json_out:
        print_json(found)
        return
    console.print(
        f"[bold]{found['name']}@{found['version']}[/bold]  {found['type']}  {found['digest']}"
    )
    console.print(f"registered {when(found['created_at'])}")
    console.print(yaml.safe_dump(found["spec"], sort_keys=False).rstrip())
