"""`boxops components`: register YAML specs as immutable versions, list and show them.

PyYAML is imported by the commands that read or print YAML: every `boxops` command, these
or not, imports this module at start-up.
"""

import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from boxops.cli.common import JsonOption, console, fail, print_json, read_spec
from boxops.cli.registry import (
    LimitOption,
    OffsetOption,
    gateway_call,
    listing,
    spec_ref,
    when,
)

components_app = typer.Typer(help="Reusable black boxes: register, list, show.")


def register_spec(
    file: Path, kind: str, json_out: bool, extra: dict[str, Any] | None = None
) -> None:
    """Check the spec here (same models as the registry), then register it."""
    import yaml

    # Imported here: the spec models are a tenth of a second of start-up for every command.
    from shared.specs import ComponentSpec, PipelineSpec, SpecError, load
    from shared.sweep_specs import SweepSpec

    text = spec_text(file)
    models = {"component": ComponentSpec, "pipeline": PipelineSpec, "sweep": SweepSpec}
    try:
        load(text, {kind: models[kind]})
    except SpecError as error:
        fail(f"{file}: invalid {kind} spec: {error}")
    if extra:
        text = yaml.safe_dump({**yaml.safe_load(text), **extra}, sort_keys=False)
    found = gateway_call(
        "POST", f"{kind}s", content=text.encode(), headers={"content-type": "application/yaml"}
    )
    if json_out:
        print_json(found)
    elif found["created"]:
        console.print(f"registered {kind} [bold]{found['name']}@{found['version']}[/bold]")
    else:
        console.print(
            f"{kind} [bold]{found['name']}@{found['version']}[/bold] unchanged: "
            "the same spec is registered already"
        )


def spec_text(file: Path) -> str:
    """The spec file's text, `{{ spec.dir }}` (its folder) and `{{ python }}` (the Python
    running boxops) filled in: what the registry is sent."""
    from shared.placeholders import fill

    values = {"spec.dir": str(file.resolve().parent), "python": sys.executable}
    return fill(read_spec(file), values)


def code_of(file: Path) -> dict[str, Any] | None:
    """Repo, commit, branch and path of the spec's folder, when it lies in a git checkout."""
    folder = file.resolve().parent

    def git(*args: str) -> str:
        # git from PATH, as the user runs it; an argument list, no shell.
        done = subprocess.run(  # noqa: S603
            ["git", "-C", str(folder), *args],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    top = git("rev-parse", "--show-toplevel")
    commit = git("rev-parse", "HEAD")
    if not top or not commit:
        return None
    return {
        "repo": git("remote", "get-url", "origin") or top,
        "commit": commit,
        "branch": git("rev-parse", "--abbrev-ref", "HEAD") or None,
        "path": folder.relative_to(Path(top).resolve()).as_posix(),
        "dirty": bool(git("status", "--porcelain", "--", ".")),
    }


@components_app.command()
def register(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="YAML spec.")],
    git: Annotated[
        bool, typer.Option(help="Record the git repo, commit and path the spec lies in.")
    ] = True,
    json_out: JsonOption = False,
) -> None:
    """Register a component; the same content keeps its version, changed content gets a new
    one. From a git checkout the repo, commit and path are recorded with it."""
    import yaml

    spec = yaml.safe_load(read_spec(file))
    code = code_of(file) if git and isinstance(spec, dict) and "code" not in spec else None
    register_spec(file, "component", json_out, {"code": code} if code else None)


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
