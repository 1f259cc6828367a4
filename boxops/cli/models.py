"""`boxops models`: model versions with their files, run and metrics; aliases."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from boxops.cli.common import JsonOption, console, fail, pairs, print_json
from boxops.cli.registry import (
    LimitOption,
    OffsetOption,
    gateway_call,
    lineage,
    listing,
    size,
    split_ref,
    when,
)

if TYPE_CHECKING:
    from shared.events import FileEntry

# The file movers (registry_files: the artifact client, which loads aiohttp) and the
# event models are imported by the commands that move files; every other command would
# pay for them at start-up.
models_app = typer.Typer(help="Models: numbered versions, their run and metrics, aliases.")


FORMATS = {
    ".onnx": "onnx",
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".joblib": "joblib",
    ".pt": "torch",
    ".pth": "torch",
    ".safetensors": "safetensors",
    ".h5": "keras",
    ".keras": "keras",
    ".gguf": "gguf",
    ".json": "json",
}


@models_app.command()
def push(
    name: str,
    path: Annotated[Path, typer.Argument(exists=True, help="A model file or a directory.")],
    format: Annotated[str | None, typer.Option(help="onnx, pickle, torch… (guessed).")] = None,
    framework: Annotated[str | None, typer.Option(help="sklearn, pytorch…")] = None,
    metric: Annotated[list[str], typer.Option(help="NAME=VALUE metrics snapshot.")] = [],  # noqa: B006
    parent: Annotated[list[str], typer.Option(help="Dataset NAME@VERSION it learnt from.")] = [],  # noqa: B006
    run: Annotated[str | None, typer.Option(help="Run that produced it.")] = None,
    description: Annotated[str | None, typer.Option(help="What the model does.")] = None,
    json_out: JsonOption = False,
) -> None:
    """Upload model files as a new version (the same files again are the same version)."""
    from boxops.cli import registry_files as files

    files.named("model", name)  # it and the metrics checked before anything is hashed or sent
    metrics = _metrics(metric)
    local, entries = files.manifest(path, quiet=json_out)
    known = files.existing("model", name, entries)
    if known is None:
        files.upload(local, entries, quiet=json_out)
        body = {
            "files": [entry.model_dump() for entry in entries],
            "format": format or _format(entries),
            "framework": framework,
            "metrics": metrics,
            "parents": parent,
            "run_id": run,
            "description": description,
        }
        known = gateway_call("POST", "models", name, "versions", json=body)
    if json_out:
        print_json(known)
    elif known.get("created"):
        console.print(f"recorded [bold]{known['model']}@{known['version']}[/bold]")
    else:
        console.print(f"no new version: the same files are {known['model']}@{known['version']}")


def _format(entries: list["FileEntry"]) -> str | None:
    found = {FORMATS.get(Path(e.path).suffix.lower()) for e in entries} - {None, "json"}
    return found.pop() if len(found) == 1 else None


def _metrics(items: list[str]) -> dict[str, float]:
    try:
        return {k: float(v) for k, v in pairs(items, "--metric").items()}
    except ValueError:
        fail(f"--metric: values are numbers, got {', '.join(items)}")


@models_app.command()
def pull(
    ref: Annotated[str, typer.Argument(help="NAME, NAME@VERSION or NAME@ALIAS.")],
    dest: Annotated[Path, typer.Argument(help="Folder to create (or an empty one).")],
) -> None:
    """Download a model version's files into DEST, each checked against its digest."""
    from boxops.cli import registry_files as files
    from shared.events import FileEntry

    name, version = split_ref(ref)
    found = gateway_call("GET", "models", name, "versions", version or "latest")
    listed = [FileEntry.model_validate(f) for f in found["files"]]
    files.download(listed, dest, quiet=False)
    console.print(f"pulled {name}@{found['version']} ({len(listed)} files) into {dest}")


@models_app.command("list")
def list_models(
    tag: Annotated[str | None, typer.Option(help="Only models with this tag.")] = None,
    prefix: Annotated[str | None, typer.Option(help="Only names starting so.")] = None,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    json_out: JsonOption = False,
) -> None:
    """Models by name, with their latest version and aliases."""
    items = listing("models", json_out, tag=tag, prefix=prefix, limit=limit, offset=offset)
    if items is None:
        return
    table = Table("name", "latest", "versions", "aliases", "created")
    for m in items:
        aliases = ", ".join(f"{a}→{v}" for a, v in m["aliases"].items())
        latest = str(m["latest_version"] or "-")
        table.add_row(m["name"], latest, str(m["versions"]), aliases, when(m["created_at"]))
    console.print(table)


@models_app.command()
def show(
    ref: Annotated[str, typer.Argument(help="NAME, NAME@VERSION or NAME@ALIAS.")],
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    json_out: JsonOption = False,
) -> None:
    """A model and its versions, or one version: files, run, metrics, aliases."""
    name, version = split_ref(ref)
    if version is None:
        model = gateway_call("GET", "models", name)
        params = {"limit": limit, "offset": offset}
        page = gateway_call("GET", "models", name, "versions", params=params)
        if json_out:
            print_json({**model, "version_list": page["items"]})
            return
        _print_versions(model, page["items"])
        return
    found = gateway_call("GET", "models", name, "versions", version)
    print_json(found) if json_out else _print_version(found)


def _print_versions(model: dict[str, Any], versions: list[dict[str, Any]]) -> None:
    console.print(f"[bold]{model['name']}[/bold]  {model['description']}")
    table = Table("version", "aliases", "format", "framework", "run", "metrics", "created")
    for v in versions:
        metrics = ", ".join(f"{k}={val:g}" for k, val in sorted(v["metrics"].items()))
        table.add_row(
            str(v["version"]),
            ", ".join(v["aliases"]),
            v.get("format") or "",
            v.get("framework") or "",
            (v.get("run_id") or "")[:12],
            metrics,
            when(v["created_at"]),
        )
    console.print(table)


def _print_version(v: dict[str, Any]) -> None:
    aliases = f"  [cyan]{', '.join(v['aliases'])}[/cyan]" if v["aliases"] else ""
    console.print(f"[bold]{v['model']}@{v['version']}[/bold]{aliases}  {when(v['created_at'])}")
    for label, value in (
        ("digest", v["digest"]),
        ("format", v.get("format")),
        ("framework", v.get("framework")),
        ("run", v.get("run_id")),
        ("parents", ", ".join(v["parents"]) or None),
    ):
        if value:
            console.print(f"{label:<10} {value}")
    for name, value in sorted(v["metrics"].items()):
        console.print(f"metric     {name} = {value:g}")
    table = Table("file", "size", "sha256")
    for f in v["files"]:
        table.add_row(f["path"], size(f["size"]), f["sha256"][:16])
    console.print(table)


@models_app.command()
def alias(
    name: str,
    version: int,
    alias: Annotated[str, typer.Argument(help="production, staging or any name.")],
    json_out: JsonOption = False,
) -> None:
    """Point ALIAS at VERSION (published as model.alias.set); NAME@ALIAS then finds it."""
    found = gateway_call("PUT", "models", name, "aliases", alias, json={"version": version})
    if json_out:
        print_json(found)
    else:
        console.print(f"{name}@{alias} → version {found['aliases'][alias]}")


@models_app.command("lineage")
def show_lineage(
    ref: Annotated[str, typer.Argument(help="NAME@VERSION or NAME@ALIAS.")],
    depth: Annotated[int, typer.Option(help="Edges to follow each way.")] = 5,
    json_out: JsonOption = False,
) -> None:
    """What a model version was trained from, and what was made from it."""
    name, version = split_ref(ref)
    found = gateway_call(
        "GET", "lineage", "models", name, version or "latest", params={"depth": depth}
    )
    print_json(found) if json_out else lineage(found)
