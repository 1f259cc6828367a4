"""What the registry's command groups share: gateway calls, references, tables, trees."""

from typing import Annotated, Any

import typer
from rich.tree import Tree

from boxops.cli.common import call, client, console, err, fail, print_json
from boxops.urls import api_path

LimitOption = Annotated[int, typer.Option(help="At most this many.")]
OffsetOption = Annotated[int, typer.Option(help="Skip this many first.")]


def gateway_call(method: str, *segments: object, **kwargs: Any) -> Any:
    """The JSON answer of `/v1/<segments…>` (each segment encoded: names may hold anything a
    user typed); a refusal is the gateway's message on one line, exit 2."""
    return call(client().request, method, api_path(*segments), **kwargs).json()


def split_ref(text: str) -> tuple[str, str | None]:
    """`iris@3` → ("iris", "3"); `iris` → ("iris", None)."""
    name, at, ref = text.partition("@")
    if not name or (at and not ref):
        fail(f"expected NAME or NAME@VERSION, got {text!r}")
    return name, ref or None


def spec_ref(text: str) -> tuple[str, ...]:
    """A component's or pipeline's path segments: (NAME,) or (NAME, "versions", VERSION)."""
    name, version = split_ref(text)
    return (name,) if version is None else (name, "versions", version)


def listing(collection: str, json_out: bool, **params: Any) -> list[dict[str, Any]] | None:
    """The page's items; printed as JSON (and None returned) with --json."""
    given = {k: v for k, v in params.items() if v is not None}
    page = gateway_call("GET", collection, params=given)
    if json_out:
        print_json(page["items"])
        return None
    shown = page["offset"] + len(page["items"])
    if page["total"] > shown:
        err.print(f"{shown} of {page['total']}; see more with --offset {shown}")
    return page["items"]


def when(value: str | None) -> str:
    return (value or "")[:19].replace("T", " ")


def size(count: int | None) -> str:
    if count is None:
        return "-"
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(count)


def lineage(view: dict[str, Any]) -> None:
    """Upstream then downstream as trees: datasets → runs → datasets/models."""
    root = view["root"]
    for direction, arrow in (("upstream", "←"), ("downstream", "→")):
        tree = Tree(f"[bold]{_label(root)}[/bold]  [dim]{direction}[/dim]")
        for child in view[direction]:
            _grow(tree, child, arrow)
        if not view[direction]:
            tree.add("[dim](nothing recorded)[/dim]")
        console.print(tree)


def _grow(tree: Tree, node: dict[str, Any], arrow: str) -> None:
    suffix = " [dim](cycle)[/dim]" if node.get("repeated") else ""
    suffix += " [dim]…[/dim]" if node.get("truncated") else ""
    branch = tree.add(f"{arrow} {_label(node)}{suffix}")
    for child in node.get("children", []):
        _grow(branch, child, arrow)


def _label(node: dict[str, Any]) -> str:
    if node["kind"] == "run":
        label = f" ({node['label']})" if node.get("label") else ""
        return f"[cyan]run[/cyan] {node['ref']}{label}"
    colour = "green" if node["kind"] == "dataset" else "magenta"
    return f"[{colour}]{node['kind']}[/{colour}] {node['ref']}"
