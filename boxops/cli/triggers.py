"""`boxops triggers` and `boxops monitors`: apply specs, look at them, fire, see history."""

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from boxops.cli.common import (
    JsonOption,
    call,
    client,
    console,
    fail,
    pairs,
    print_json,
    read_spec,
)
from boxops.cli.documents import documents
from boxops.urls import api_path

FileArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="YAML spec file.")]


# A factory: C901 adds up the branches of all the small commands it defines.
def build(kind: str) -> typer.Typer:  # noqa: C901
    """The same commands for triggers and monitors (`kind` is the URL segment)."""
    app = typer.Typer(help=f"Apply and inspect {kind}.")

    @app.command()
    def apply(path: FileArg, json_out: JsonOption = False) -> None:
        """Create or update from a YAML spec; an unchanged spec keeps its version. A file
        may hold several, with `---` lines between them: each is applied in turn."""
        results = [_post(kind, content=text, yaml=True) for text in _specs(path)]
        if json_out:
            print_json(results[0] if len(results) == 1 else results)
            return
        for result in results:
            console.print(
                f"{result['kind']} {result['name']} v{result['version']} {result['change']}"
            )

    @app.command("list")
    def listing(json_out: JsonOption = False) -> None:
        found = _get(kind)
        if json_out:
            print_json(found)
            return
        table = Table("name", "type", "enabled", "version", "updated")
        for row in found:
            table.add_row(
                row["name"],
                row["type"],
                str(row["enabled"]),
                str(row["version"]),
                row["updated_at"][:19],
            )
        console.print(table)

    @app.command()
    def show(name: str, json_out: JsonOption = False) -> None:
        found = _get(kind, name)
        print_json(found) if json_out else console.print_json(json.dumps(found))

    @app.command()
    def enable(name: str) -> None:
        _post(kind, name, "enable")
        console.print(f"{name} enabled")

    @app.command()
    def disable(name: str) -> None:
        _post(kind, name, "disable")
        console.print(f"{name} disabled")

    @app.command()
    def history(
        name: str,
        limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
        json_out: JsonOption = False,
    ) -> None:
        """What it did and why: firings with event and run ids, or a monitor's crossings."""
        found = _get(kind, name, "history", params={"limit": limit})
        if json_out:
            print_json(found)
            return
        if kind == "monitors":
            table = Table("at", "kind", "value", "threshold", "run")
            for row in found:
                table.add_row(
                    row["at"][:19],
                    row["kind"],
                    f"{row['value']:g}",
                    f"{row['threshold']:g}",
                    row.get("run_id") or "",
                )
        else:
            table = Table("at", "status", "run", "event / tick", "reason")
            for row in found:
                cause = row.get("event_id") or (row.get("tick") or "")[:19] or row["key"]
                table.add_row(
                    row["at"][:19],
                    row["status"],
                    row.get("run_id") or "",
                    cause,
                    row.get("reason", ""),
                )
                for attempt in (row.get("notify") or {}).get("attempts", []):
                    table.add_row(*_attempt(attempt))
        console.print(table)

    if kind == "triggers":

        @app.command()
        def fire(
            name: str,
            param: Annotated[list[str], typer.Option("--param", "-p", help="NAME=VALUE.")] = [],  # noqa: B006
            json_out: JsonOption = False,
        ) -> None:
            """Fire by hand (its policies still apply)."""
            params = {k: _value(v) for k, v in pairs(param, "--param").items()}
            firing = _post("triggers", name, "fire", json=params)
            print_json(firing) if json_out else console.print(
                f"{firing['status']} {firing.get('run_id') or ''} {firing.get('reason', '')}"
            )

        @app.command()
        def test(
            path: FileArg,
            since: Annotated[str, typer.Option(help="Replay this last period, e.g. 24h.")] = "24h",
            json_out: JsonOption = False,
        ) -> None:
            """Dry run: what this (unapplied) trigger would have started, and why."""
            result = _post(
                "triggers", "test", content=read_spec(path), yaml=True, params={"since": since}
            )
            if json_out:
                print_json(result)
                return
            would = result["would"]
            console.print(
                f"{result['trigger']}: {len(would)} outcome(s) since {result['since'][:19]}"
            )
            table = Table("at", "action", "event", "params", "inputs", "reason")
            for row in would:
                table.add_row(
                    row["at"][:19],
                    row["action"],
                    row.get("event_id") or "",
                    json.dumps(row["params"]),
                    json.dumps(row["inputs"]),
                    row["reason"],
                )
            console.print(table)

    return app


def _specs(path: Path) -> list[str]:
    """The specs of a file, each checked to parse before anything is sent."""
    import yaml  # here: PyYAML is a fiftieth of every command's start, few read a spec

    try:
        several = documents(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, OSError):
        several = []  # read_spec says what is wrong with the file
    if len(several) < 2:
        return [read_spec(path)]
    for text in several:
        try:
            yaml.safe_load(text)
        except yaml.YAMLError as error:
            from shared.specs import yaml_problem

            fail(f"{path}, {yaml_problem(error)}")
    return several


def _attempt(attempt: dict[str, Any]) -> tuple[str, ...]:
    """A notification's attempt, as a line under the firing that sent it."""
    answer = attempt["error"] or f"HTTP {attempt['status_code']}"
    what = f"  attempt {attempt['attempt']}"
    return (attempt["at"][:19], what, "", "", f"{answer}: {attempt['outcome']}")


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _get(*segments: str, **kwargs: Any) -> Any:
    return call(client().request, "GET", api_path(*segments), **kwargs).json()


def _post(*segments: str, yaml: bool = False, **kwargs: Any) -> Any:
    if yaml:
        kwargs["headers"] = {"content-type": "application/yaml"}
    return call(client().request, "POST", api_path(*segments), **kwargs).json()


events_app = typer.Typer(help="Publish events by hand.")


@events_app.command()
def publish(
    subject: str,
    data: Annotated[str, typer.Argument(help="The event's data as JSON.")],
    json_out: JsonOption = False,
) -> None:
    """Publish an event on a public subject: dataset.version.created, metric.logged,
    metrics.logged, alert.firing, alert.resolved or ext.…, e.g.
    `boxops events publish ext.sales.updated '{...}'`."""
    try:
        json.loads(data)
    except ValueError as error:
        fail(f"the data is not JSON: {error}")
    result = _post("events", subject, content=data, headers={"content-type": "application/json"})
    print_json(result) if json_out else console.print(f"published {result['id']} on {subject}")
