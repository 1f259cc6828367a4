"""`boxops hooks`: generic signed webhooks, made, listed and deleted (needs an admin token).

Alertmanager and Grafana need no hook made: they call /v1/hooks/alertmanager and
/v1/hooks/grafana with a token of scope `hook` (`boxops tokens create NAME --scope hook`).
"""

from typing import Annotated, Any

import typer
from rich.table import Table

from boxops.cli.common import JsonOption, console, err, fail, print_json
from boxops.cli.registry import when
from boxops.cli.tokens import gateway_json

hooks_app = typer.Typer(
    help="Generic webhooks: each signs its bodies (X-Hub-Signature-256) with its secret and "
    "publishes them on its subject (ext.hook.NAME by default), which triggers listen on."
)


@hooks_app.command()
def create(
    name: str,
    subject: Annotated[
        str | None, typer.Option(help="Public subject to publish under; default ext.hook.NAME.")
    ] = None,
    map_: Annotated[
        list[str],
        typer.Option("--map", help="FIELD=PATH: the event's FIELD from the body's dotted PATH."),
    ] = [],  # noqa: B006
    json_out: JsonOption = False,
) -> None:
    """Make a hook and print its secret: it is shown this once."""
    body = {"name": name, "subject": subject, "mapping": _mapping(map_)}
    made = gateway_json("POST", "/v1/hooks", json=body)
    if json_out:
        print_json(made)
        return
    shown = (
        f"hook {name!r}: POST {made['url']} publishes on {made['subject']}; sign each body "
        "with this secret (keep it, it is not shown again):"
    )
    err.print(shown, soft_wrap=True, highlight=False)
    print(made["secret"])


@hooks_app.command("list")
def list_hooks(json_out: JsonOption = False) -> None:
    """Every hook's name, URL, subject and mapping (never its secret)."""
    found = gateway_json("GET", "/v1/hooks")
    if json_out:
        print_json(found)
        return
    table = Table("name", "url", "subject", "mapping", "created")
    for hook in found:
        mapping = ", ".join(f"{k}={v}" for k, v in hook["mapping"].items())
        table.add_row(hook["name"], hook["url"], hook["subject"], mapping, when(hook["created_at"]))
    console.print(table)


@hooks_app.command()
def delete(name: str) -> None:
    """Delete a hook: its URL takes nothing from now on."""
    gateway_json("DELETE", f"/v1/hooks/{name}")
    err.print(f"hook {name!r} deleted", soft_wrap=True)


def _mapping(pairs: list[str]) -> dict[str, Any]:
    mapping = {}
    for pair in pairs:
        field, sep, path = pair.partition("=")
        if not sep or not field or not path:
            fail(f"--map {pair!r}: expected FIELD=PATH, e.g. repo=repository.full_name")
        mapping[field] = path
    return mapping
