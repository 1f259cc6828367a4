"""`boxops datasets`: push, link, pull, list, show, verify and trace datasets."""

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from boxops.cli.common import JsonOption, console, err, fail, pairs, print_json
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
from shared.datafiles import describe

datasets_app = typer.Typer(help="Datasets and their immutable, numbered versions.")
TYPES = "table, image, audio, video, text or other"
POLL_S = 0.2  # how often `link` asks whether file:// data is hashed yet
MetaOption = Annotated[list[str], typer.Option("--meta", help="KEY=VALUE metadata.")]
ParentOption = Annotated[list[str], typer.Option("--parent", help="NAME@VERSION it came from.")]
TypeOption = Annotated[str | None, typer.Option("--type", help=f"Type if new: {TYPES}.")]
# The file movers (registry_files: the artifact client, which loads aiohttp) and the
# event models are imported by the commands that move files; every other command would
# pay for them at start-up.


@datasets_app.command()
def create(
    name: str,
    type: TypeOption = None,
    description: Annotated[str | None, typer.Option(help="What it holds.")] = None,
    tag: Annotated[list[str], typer.Option("--tag", help="A tag; repeat for more.")] = [],  # noqa: B006
    json_out: JsonOption = False,
) -> None:
    """Create a dataset, or change its type, description or tags."""
    body = {"type": type, "description": description, "tags": tag or None}
    found = gateway_call("PUT", "datasets", name, json=body)
    print_json(found) if json_out else console.print(
        f"dataset [bold]{found['name']}[/bold] ({found['type']})"
    )


@datasets_app.command()
def push(
    name: str,
    path: Annotated[Path, typer.Argument(exists=True, help="A file or a directory.")],
    meta: MetaOption = [],  # noqa: B006
    parent: ParentOption = [],  # noqa: B006
    type: TypeOption = None,
    json_out: JsonOption = False,
) -> None:
    """Upload a file or directory as a new version (files the store has are not sent again);
    pushing the same content again makes no version and says so."""
    from boxops.cli import registry_files as files

    files.named("dataset", name)
    local, entries = files.manifest(path, quiet=json_out)
    known = files.existing("dataset", name, entries)
    if known:
        report({**known, "created": False}, json_out)
        return
    files.upload(local, entries, quiet=json_out)
    body = {
        "files": [entry.model_dump() for entry in entries],
        "metadata": {**describe(f.path for f in local), **_meta(meta)},
        "parents": parent,
        "type": type,
    }
    report(gateway_call("POST", "datasets", name, "versions", json=body), json_out)


@datasets_app.command()
def pull(
    ref: Annotated[str, typer.Argument(help="NAME or NAME@VERSION (latest if none).")],
    dest: Annotated[Path, typer.Argument(help="Folder to create (or an empty one).")],
) -> None:
    """Download a managed version into DEST; each file is checked against its digest, and a
    failed pull leaves no folder behind."""
    from boxops.cli import registry_files as files
    from shared.events import FileEntry

    name, version = split_ref(ref)
    found = gateway_call("GET", "datasets", name, "versions", version or "latest")
    if not found["managed"]:
        fail(f"{name}@{found['version']} is external: its data lives at {found['uri']}")
    listed: list[FileEntry] = []
    while len(listed) < found["file_count"]:
        page = _files(name, str(found["version"]), 1000, len(listed))
        if not page:
            break
        listed += [FileEntry.model_validate(f) for f in page]
    files.download(listed, dest, quiet=False)
    console.print(f"pulled {name}@{found['version']} ({len(listed)} files) into {dest}")


@datasets_app.command()
def link(
    name: str,
    uri: Annotated[str, typer.Argument(help="s3://…, hdfs://…, gs://…, file://…, https://…")],
    digest: Annotated[str | None, typer.Option(help="Content digest, e.g. sha256:….")] = None,
    meta: MetaOption = [],  # noqa: B006
    parent: ParentOption = [],  # noqa: B006
    type: TypeOption = None,
    json_out: JsonOption = False,
) -> None:
    """Record a version that lives elsewhere, without copying it; it is pinned where the
    source allows (file:// data hashed and a declared digest checked, an S3 version id, an
    ETag) so `verify` can see drift. Waits while boxops hashes file:// data."""
    body = {
        "uri": uri,
        "digest": digest,
        "metadata": _meta(meta),
        "parents": parent,
        "type": type,
    }
    version = _settled(gateway_call("POST", "datasets", name, "versions", json=body))
    report(version, json_out)
    if version.get("state") == "failed":
        ref = f"{version['dataset']}@{version['version']}"
        err.print(f"{ref} failed: {version.get('state_reason')}", style="red", markup=False)
        raise typer.Exit(1)


def _settled(version: dict[str, Any]) -> dict[str, Any]:
    """The version once boxops has hashed its data (it is `pinning` until then)."""
    with err.status(f"hashing {version.get('uri')}"):
        while version.get("state") == "pinning":
            time.sleep(POLL_S)
            found = gateway_call(
                "GET", "datasets", version["dataset"], "versions", version["version"]
            )
            version = {**found, "created": version.get("created")}
    return version


def _meta(items: list[str]) -> dict[str, Any]:
    return {k: _value(v) for k, v in pairs(items, "--meta").items()}


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def report(version: dict[str, Any], json_out: bool) -> None:
    """What a push or link did: a new version with its changes, or the existing one."""
    if json_out:
        print_json(version)
        return
    ref = f"{version['dataset']}@{version['version']}"
    if not version.get("created"):
        console.print(f"no new version: the same data is [bold]{ref}[/bold] already")
        return
    console.print(f"recorded [bold]{ref}[/bold]{_changes(version)}")


def _changes(version: dict[str, Any]) -> str:
    changes = version.get("changes") or {}
    if version.get("previous_version") is None:
        return ""
    parts = [
        f"{changes[k]} {word}"
        for k, word in (
            ("files_added", "added"),
            ("files_removed", "removed"),
            ("files_modified", "modified"),
        )
        if changes.get(k)
    ]
    if changes.get("rows_delta") is not None:
        parts.append(f"rows {changes['rows_delta']:+d}")
    detail = ", ".join(parts) or "content changed"
    return f" (after {version['previous_version']}: {detail})"


@datasets_app.command("list")
def list_datasets(
    type: Annotated[str | None, typer.Option("--type", help=f"Only this type: {TYPES}.")] = None,
    tag: Annotated[str | None, typer.Option(help="Only datasets with this tag.")] = None,
    prefix: Annotated[str | None, typer.Option(help="Only names starting so.")] = None,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    json_out: JsonOption = False,
) -> None:
    """Datasets by name, with their latest version."""
    params = {"type": type, "tag": tag, "prefix": prefix, "limit": limit, "offset": offset}
    items = listing("datasets", json_out, **params)
    if items is None:
        return
    table = Table("name", "type", "latest", "versions", "created", "tags")
    for d in items:
        latest = str(d["latest_version"]) if d["latest_version"] else "-"
        tags = ", ".join(d["tags"])
        table.add_row(d["name"], d["type"], latest, str(d["versions"]), when(d["created_at"]), tags)
    console.print(table)


@datasets_app.command()
def show(
    ref: Annotated[str, typer.Argument(help="NAME (its versions) or NAME@VERSION.")],
    files: Annotated[bool, typer.Option(help="List the version's files.")] = False,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    json_out: JsonOption = False,
) -> None:
    """A dataset and its versions, or one version: metadata, changes, pin, lineage parents."""
    name, version = split_ref(ref)
    if version is None:
        _show_dataset(name, limit, offset, json_out)
        return
    found = gateway_call("GET", "datasets", name, "versions", version)
    listed = _files(name, version, limit, offset) if files else None
    if json_out:
        print_json({**found, "files": listed} if files else found)
        return
    _print_version(found)
    if listed:
        table = Table("path", "size", "sha256")
        for f in listed:
            table.add_row(f["path"], size(f["size"]), f["sha256"][:16])
        console.print(table)


def _files(name: str, version: str, limit: int, offset: int) -> list[dict[str, Any]]:
    params = {"limit": limit, "offset": offset}
    page = gateway_call("GET", "datasets", name, "versions", version, "files", params=params)
    return page["items"]


def _show_dataset(name: str, limit: int, offset: int, json_out: bool) -> None:
    dataset = gateway_call("GET", "datasets", name)
    params = {"limit": limit, "offset": offset}
    page = gateway_call("GET", "datasets", name, "versions", params=params)
    if json_out:
        print_json({**dataset, "version_list": page["items"]})
        return
    console.print(f"[bold]{dataset['name']}[/bold]  {dataset['type']}  {dataset['description']}")
    table = Table("version", "kind", "where", "files", "size", "rows", "source", "created")
    for v in page["items"]:
        meta = v["metadata"]
        table.add_row(
            str(v["version"]),
            "managed" if v["managed"] else "external",
            v["uri"] or (v["digest"] or "")[:19],
            str(meta.get("files", v["file_count"]) or "-"),
            size(meta.get("bytes")),
            str(meta.get("rows", "-")),
            v["source"],
            when(v["created_at"]),
        )
    console.print(table)


def _print_version(v: dict[str, Any]) -> None:
    kind = "managed" if v["managed"] else "external"
    console.print(f"[bold]{v['dataset']}@{v['version']}[/bold]  {kind}  {when(v['created_at'])}")
    state = v.get("state", "pinned")
    reason = v.get("state_reason")
    for label, value in (
        ("state", None if state == "pinned" else f"{state}: {reason}" if reason else state),
        ("uri", v.get("uri")),
        ("digest", v.get("digest")),
        ("run", v.get("run_id")),
        ("parents", ", ".join(v.get("parents") or []) or None),
        ("previous", v.get("previous_version")),
    ):
        if value is not None:
            console.print(f"{label:<9} {value}")
    meta = dict(v["metadata"])
    columns = meta.pop("columns", None)
    for key, value in meta.items():
        console.print(f"{key:<9} {value}")
    if columns:
        console.print("columns   " + ", ".join(f"{c['name']}:{c['type']}" for c in columns))
    if v.get("previous_version") is not None:
        console.print(f"changes  {_changes({**v, 'created': True}).strip(' ()')}")
    if v.get("pin"):
        console.print(f"pinned    {json.dumps(v['pin'])}")


@datasets_app.command()
def verify(
    ref: Annotated[str, typer.Argument(help="NAME@VERSION.")],
    json_out: JsonOption = False,
) -> None:
    """Has the data behind an external version changed since it was recorded? Exit 1 if so
    (or if it cannot be read any more)."""
    name, version = split_ref(ref)
    found = gateway_call("POST", "datasets", name, "versions", version or "latest", "verify")
    if json_out:
        print_json(found)
    else:
        colour = {"ok": "green", "drift": "red", "unreachable": "red", "failed": "red"}.get(
            found["status"], "yellow"
        )
        console.print(f"{found['ref']}: [{colour}]{found['status']}[/{colour}]")
        for line in found["differences"]:
            console.print(f"  {line}")
    if found["status"] in ("drift", "unreachable", "failed"):
        raise typer.Exit(1)


@datasets_app.command("lineage")
def show_lineage(
    ref: Annotated[str, typer.Argument(help="NAME@VERSION.")],
    depth: Annotated[int, typer.Option(help="Edges to follow each way.")] = 5,
    json_out: JsonOption = False,
) -> None:
    """Where a version came from and what was made from it: datasets → runs → datasets/models."""
    name, version = split_ref(ref)
    found = gateway_call(
        "GET", "lineage", "datasets", name, version or "latest", params={"depth": depth}
    )
    print_json(found) if json_out else lineage(found)
