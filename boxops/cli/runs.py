"""`boxops runs`: submit, list, show and follow runs."""

import time
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from boxops.cli.output import print_json
from boxops.client import TERMINAL, Client, GatewayError
from boxops.home import home

runs_app = typer.Typer(help="Submit runs and see what they did.")
console = Console()
err = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _client() -> Client:
    try:
        return Client.from_env(home())
    except GatewayError as error:
        err.print(f"[red]{error}")
        raise typer.Exit(2) from None


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except GatewayError as error:
        err.print(f"[red]{error}")
        raise typer.Exit(2) from None


@runs_app.command(context_settings={"allow_interspersed_args": False})
def submit(
    command: Annotated[list[str], typer.Argument(help="Command and arguments, after --.")],
    env: Annotated[list[str], typer.Option("--env", "-e", help="NAME=VALUE, repeatable.")] = [],  # noqa: B006
    wait: Annotated[
        bool, typer.Option(help="Wait for the run to end; exit 0 only if it completed.")
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """Run an inline command: `boxops runs submit --wait -- python train.py`."""
    client = _client()
    variables = dict(_pair(item) for item in env)
    accepted = _call(client.submit, command, variables)
    run_id = accepted["id"]
    if not wait:
        print_json(accepted) if json_out else console.print(run_id)
        return
    with console.status(f"run {run_id}: pending", spinner="dots") as spinner:
        run = _wait(client, run_id, lambda state: spinner.update(f"run {run_id}: {state}"))
    if json_out:
        print_json(run)
    else:
        _print_run(run)
    if run["state"] != "completed":
        raise typer.Exit(1)


def _wait(client: Client, run_id: str, progress: Any) -> dict[str, Any]:
    while True:
        run = _call(client.run, run_id)
        if run:
            progress(run["state"])
            if run["state"] in TERMINAL:
                return run  # type: ignore[no-any-return]
        time.sleep(0.1)


def _pair(item: str) -> tuple[str, str]:
    name, sep, value = item.partition("=")
    if not sep or not name:
        raise typer.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--env")
    return name, value


@runs_app.command()
def show(run_id: str, json_out: JsonOption = False) -> None:
    """A run's state, command, exit code and status history."""
    run = _call(_client().run, run_id)
    if run is None:
        err.print(f"[red]no run with id {run_id!r}")
        raise typer.Exit(1)
    print_json(run) if json_out else _print_run(run)


def _print_run(run: dict[str, Any]) -> None:
    console.print(f"[bold]run {run['id']}[/bold]  {_coloured(run['state'])}")
    console.print(f"command   {' '.join(run['command'])}")
    console.print(f"executor  {run.get('executor_id') or '-'}")
    console.print(f"exit code {run['exit_code'] if run['exit_code'] is not None else '-'}")
    console.print(f"cause     {run['cause'].get('kind', 'manual')}")
    if run.get("error"):
        console.print(f"[red]error[/red]\n{run['error']}")
    table = Table("at", "state", "sub-state", "reason")
    for step in run["history"]:
        table.add_row(step["at"], step["state"], step.get("substate") or "", step["reason"])
    console.print(table)


def _coloured(state: str) -> str:
    colour = {"completed": "green", "failed": "red", "aborted": "yellow"}.get(state, "cyan")
    return f"[{colour}]{state}[/{colour}]"


@runs_app.command("list")
def list_runs(
    state: Annotated[str | None, typer.Option(help="Only runs in this state.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
    json_out: JsonOption = False,
) -> None:
    """Runs, newest first."""
    runs = _call(_client().runs, state, limit)
    if json_out:
        print_json(runs)
        return
    table = Table("id", "state", "command", "created", "exit")
    for run in runs:
        exit_code = "" if run["exit_code"] is None else str(run["exit_code"])
        table.add_row(
            run["id"],
            _coloured(run["state"]),
            " ".join(run["command"])[:60],
            run["created_at"],
            exit_code,
        )
    console.print(table)


@runs_app.command()
def logs(
    run_id: str,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing until the run ends.")
    ] = False,
) -> None:
    """What the run printed (stdout and stderr, in order)."""
    client = _client()
    shown = 0
    while True:
        run = _call(client.run, run_id) if follow else None
        lines = _call(client.logs, run_id)
        for line in lines[shown:]:
            print(line["line"], flush=True)
        shown = len(lines)
        if not follow or (run and run["state"] in TERMINAL):
            return
        time.sleep(0.2)
