"""What the registry's command groups share: gateway calls, references, tables, trees."""

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.tree import Tree

from boxops.cli.common import client, console, err, print_json

if TYPE_CHECKING:
    import httpx

LimitOption = Annotated[int, typer.Option(help="At most this many.")]
OffsetOption = Annotated[int, typer.Option(help="Skip this many first.")]


def gateway_call(method: str, path: str, **kwargs: Any) -> Any:
    """The JSON answer; a refusal is printed (each spec problem on its line) and exits 2."""
    import httpx  # here, not at the top: only commands that call the gateway need it

    gateway = client()
    try:
        response = gateway.http.request(method, path, **kwargs)
    except httpx.TransportError as error:
        err.print(f"[red]cannot reach the gateway at {gateway.base_url}: {error}")
        raise typer.Exit(2) from None
    if response.status_code >= 400:
        _refused(response)
        raise typer.Exit(2)
    return response.json()


def _refused(response: "httpx.Response") -> None:
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        detail = response.text
    if isinstance(detail, dict) and detail.get("problems"):
        err.print(f"[red]{response.status_code}: {detail['error'].split(':')[0]}")
        for problem in detail["problems"]:
            err.print(f"  {problem}")
        return
    if isinstance(detail, list):  # FastAPI's own validation
        detail = "; ".join(f"{'.'.join(map(str, d['loc'][1:]))}: {d['msg']}" for d in detail)
    err.print(f"[red]{response.status_code}: {detail}")


def split_ref(text: str) -> tuple[str, str | None]:
    """`iris@3` → ("iris", "3"); `iris` → ("iris", None)."""
    name, at, ref = text.partition("@")
    if not name or (at and not ref):
        raise typer.BadParameter(f"expected NAME or NAME@VERSION, got {text!r}")
    return name, ref or None


def listing(path: str, json_out: bool, **params: Any) -> list[dict[str, Any]] | None:
    """The page's items; printed as JSON (and None returned) with --json."""
    page = gateway_call("GET", path, params={k: v for k, v in params.items() if v is not None})
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
