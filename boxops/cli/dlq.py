"""`boxops dlq`: the messages consumers could not take, with why; replayed after a fix."""

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from boxops.cli.common import JsonOption, call, client, console, fail, print_json

dlq_app = typer.Typer(help="Dead letters: list, show, replay.")
SubjectOption = Annotated[
    str | None, typer.Option("--subject", help="Original subject; * and > match.")
]


def _request(method: str, path: str, **kwargs: Any) -> Any:
    return call(client().request, method, path, **kwargs).json()


@dlq_app.command("list")
def listing(
    subject: SubjectOption = None,
    since: Annotated[str | None, typer.Option(help="ISO time, or a period such as 24h.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    json_out: JsonOption = False,
) -> None:
    """Dead letters, oldest first: id, when, subject, consumer and reason."""
    params = {k: v for k, v in {"subject": subject, "since": since, "limit": limit}.items() if v}
    found = _request("GET", "/v1/dlq", params=params)
    if json_out:
        print_json(found)
        return
    if not found:
        console.print("no dead letters")
        return
    table = Table("id", "at", "subject", "consumer", "reason")
    for entry in found:
        at = entry["at"][:19]
        table.add_row(str(entry["id"]), at, entry["subject"], entry["consumer"], entry["reason"])
    console.print(table)


@dlq_app.command()
def show(id: int, json_out: JsonOption = False) -> None:
    """One dead letter: the message, its headers and the reason."""
    entry = _request("GET", f"/v1/dlq/{id}")
    if json_out:
        print_json(entry)
        return
    console.print(f"[bold]{entry['id']}[/] {entry['subject']}  {entry['at'][:19]}")
    console.print(f"reason: {entry['reason']}", markup=False)
    console.print(f"consumer: {entry['consumer']}", markup=False)
    for name, value in entry["headers"].items():
        console.print(f"  {name}: {value}", markup=False)
    console.print(json.dumps(entry["data"], indent=2), markup=False)


@dlq_app.command()
def replay(
    id: Annotated[int | None, typer.Argument(help="The dead letter's id.")] = None,
    subject: SubjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """Publish a dead letter again on its subject (or every one of --subject), after a fix."""
    if (id is None) == (subject is None):
        fail("give a dead letter's ID or --subject SUBJECT, not both")
    if id is not None:
        done = [_request("POST", f"/v1/dlq/{id}/replay")]
    else:
        done = _request("POST", "/v1/dlq/replay", params={"subject": subject})
    if json_out:
        print_json(done)
        return
    for entry in done:
        again = " (replayed already: dropped as a duplicate)" if entry["duplicate"] else ""
        console.print(f"replayed {entry['id']} on {entry['subject']}{again}")
    if not done:
        console.print(f"no dead letters of {subject}")
