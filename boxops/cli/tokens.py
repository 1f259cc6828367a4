"""`boxops tokens`: named API tokens with scopes and an expiry (needs an admin token)."""

from typing import Annotated, Any

import typer
from rich.table import Table

from boxops.cli.common import JsonOption, client, console, err, fail, print_json
from boxops.cli.registry import when

tokens_app = typer.Typer(
    help="API tokens: read (every GET), run (submit, abort, retry), write (register, push, "
    "triggers, monitors, events), admin (tokens, dead letters; everything), hook (only the "
    "Alertmanager and Grafana hooks)."
)


@tokens_app.command()
def create(
    name: str,
    scope: Annotated[
        list[str], typer.Option(help="read, run, write, admin or hook; repeat for more.")
    ] = [],  # noqa: B006
    expires: Annotated[
        str | None, typer.Option(help="Lifetime: '30d', '12h', seconds; none: no expiry.")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Make a token and print it: it is shown this once, and stored only hashed."""
    body = {"name": name, "scopes": scope, "expires_in": expires}
    made = gateway_json("POST", "/v1/tokens", json=body)
    if json_out:
        print_json(made)
        return
    until = f", expires {when(made['expires_at'])} UTC" if made["expires_at"] else ""
    scopes = ", ".join(made["scopes"])
    shown = f"token {name!r} ({scopes}{until}); keep it, it is not shown again:"
    err.print(shown, soft_wrap=True, highlight=False)
    print(made["token"])


@tokens_app.command("list")
def list_tokens(json_out: JsonOption = False) -> None:
    """Every token's name, scopes and expiry (never the token)."""
    found = gateway_json("GET", "/v1/tokens")
    if json_out:
        print_json(found)
        return
    table = Table("name", "scopes", "created", "expires")
    for token in found:
        expires = when(token["expires_at"]) or "never"
        table.add_row(
            token["name"],
            ", ".join(token["scopes"]),
            when(token["created_at"]),
            f"{expires} (expired)" if token["expired"] else expires,
        )
    console.print(table)


@tokens_app.command()
def revoke(name: str) -> None:
    """Revoke a token: it opens nothing from now on."""
    gateway_json("DELETE", f"/v1/tokens/{name}")
    err.print(f"token {name!r} revoked", soft_wrap=True)


def gateway_json(method: str, path: str, **kwargs: Any) -> Any:
    """The gateway's JSON answer; a refusal is one red line and exit 2."""
    from boxops.client import GatewayError

    try:
        return client().request(method, path, **kwargs).json()
    except GatewayError as error:
        fail(str(error))
