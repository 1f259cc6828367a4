"""`boxops artifacts`: put, get, show and list blobs in the artifact store."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from boxops.cli.common import JsonOption, client, console, err, fail, print_json

if TYPE_CHECKING:
    from boxops.artifacts import Artifacts

artifacts_app = typer.Typer(help="Blobs in the artifact store, by sha256: put, get, show, list.")


# The artifact client is imported by the commands that use it: it loads aiohttp, which
# every other `boxops` command would pay for at start-up.
def _store() -> "Artifacts":
    from boxops.artifacts import Artifacts

    gateway = client()
    token = gateway.http.headers.get("Authorization", "").removeprefix("Bearer ")
    return Artifacts(gateway.base_url, token)


@contextmanager
def _failing() -> Iterator[None]:
    from boxops.artifacts import ArtifactError

    try:
        yield
    except ArtifactError as error:
        fail(str(error))


@contextmanager
def _bar(label: str, total: int, quiet: bool) -> Iterator[Any]:
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn())
    speed = (TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, *speed, console=err, disable=quiet, transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)


@artifacts_app.command()
def put(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The file.")],
    name: Annotated[str | None, typer.Option(help="Name to store (default: the file's).")] = None,
    media_type: Annotated[str | None, typer.Option(help="e.g. text/csv.")] = None,
    json_out: JsonOption = False,
) -> None:
    """Upload a file of any size (streamed, verified); prints its id, the sha256."""
    store = _store()
    with _failing(), _bar(path.name, path.stat().st_size, json_out) as progress:
        blob = store.put_file(path, name=name, media_type=media_type, progress=progress)
    if json_out:
        print_json(blob.model_dump(mode="json"))
    else:
        console.print(blob.sha256, highlight=False)


@artifacts_app.command()
def get(
    sha256: str,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File to write (default: its name).")
    ] = None,
) -> None:
    """Download a blob (streamed, its sha256 checked) to a file."""
    store = _store()
    with _failing():
        blob = store.stat(sha256)
        target = output or Path((blob.name or blob.sha256).rsplit("/", 1)[-1])
        with _bar(target.name, blob.size, False) as progress:
            store.get(blob.sha256, target, progress=progress)
    err.print(f"{target} ({blob.size} bytes)")


@artifacts_app.command()
def show(sha256: str, json_out: JsonOption = False) -> None:
    """A blob's metadata and its preview (DataFrame, array, JSON, image, visualisation)."""
    store = _store()
    with _failing():
        blob, preview = store.stat(sha256), store.preview(sha256)
    if json_out:
        print_json({**blob.model_dump(mode="json"), "preview": preview.preview})
        return
    table = Table(show_header=False, box=None)
    for field in ("sha256", "size", "name", "media_type", "created_at", "preview_status"):
        table.add_row(field, str(getattr(blob, field)))
    console.print(table)
    if preview.preview:
        _print_preview(preview.preview)


def _print_preview(preview: dict[str, Any]) -> None:
    if preview.get("error"):
        console.print(f"[yellow]no preview: {preview['error']}")
    elif preview.get("kind") == "dataframe":
        rows, columns = preview["rows"], preview["column_count"]
        console.print(f"{preview['format']}: {rows} rows, {columns} columns")
        head = Table(*[f"{c['name']}\n{c['type']}" for c in preview["columns"]])
        for row in preview["head"]:
            head.add_row(*[str(row.get(c["name"])) for c in preview["columns"]])
        console.print(head)
    elif preview.get("kind") == "image":
        console.print(f"image {preview['format']} {preview['width']}x{preview['height']}")
    else:
        shown = {k: v for k, v in preview.items() if k != "sha256"}
        console.print_json(json.dumps(shown)[:20_000])


@artifacts_app.command("list")
def list_blobs(
    limit: Annotated[int, typer.Option(help="How many.")] = 50,
    after: Annotated[str | None, typer.Option(help="Continue after this sha256.")] = None,
    json_out: JsonOption = False,
) -> None:
    """Stored blobs, by sha256."""
    with _failing():
        blobs = _store().listing(limit=limit, after=after)
    if json_out:
        print_json([b.model_dump(mode="json") for b in blobs])
        return
    table = Table("sha256", "size", "name", "preview")
    for blob in blobs:
        table.add_row(blob.sha256, str(blob.size), blob.name or "", blob.preview_kind or "")
    console.print(table)
