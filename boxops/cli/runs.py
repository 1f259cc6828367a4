"""`boxops runs`: submit, list, show, follow, abort and retry runs."""

import json
import sys
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from boxops.cli.common import JsonOption, call, client, console, err, fail, pairs, print_json
from boxops.cli.run_usage import usage_lines
from boxops.urls import api_path
from shared.runs import TERMINAL, RunState, could_be_run_id

if TYPE_CHECKING:
    from boxops.client import Client

runs_app = typer.Typer(help="Submit runs and see what they did.")
RECORD_GRACE_S = 5.0
COLOURS: dict[str, str] = {
    RunState.COMPLETED: "green",
    RunState.FAILED: "red",
    RunState.ABORTED: "yellow",
    RunState.RUNNING: "cyan",
}
WHOLE = 100_000  # a console width no line of `runs list --wide` reaches


@runs_app.command()
def submit(
    target: Annotated[
        list[str],
        typer.Argument(help="COMPONENT[@VERSION] or PIPELINE[@VERSION]; or -- CMD ARGS…"),
    ],
    param: Annotated[list[str], typer.Option("--param", "-p", help="NAME=VALUE.")] = [],  # noqa: B006
    input: Annotated[list[str], typer.Option("--input", "-i", help="NAME=REF.")] = [],  # noqa: B006
    env: Annotated[list[str], typer.Option("--env", "-e", help="NAME=VALUE.")] = [],  # noqa: B006
    pipeline: Annotated[
        bool, typer.Option(help="TARGET is a pipeline (needed only if a component has its name).")
    ] = False,
    wait: Annotated[
        bool, typer.Option(help="Wait for the run to end; exit 0 only if it completed.")
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """Run a component or pipeline (`boxops runs submit train -p lr=0.1 -i data=iris@2`),
    or an inline command (`boxops runs submit --wait -- python train.py`)."""
    body: dict[str, Any] = {"env": pairs(env, "--env")}
    if "--" in sys.argv:  # everything after -- is a command, even a single word
        body["command"] = target
    else:
        if len(target) != 1:
            fail("give one COMPONENT or PIPELINE, or a command after --")
        body["pipeline" if pipeline else "component"] = target[0]
        body["params"] = {k: _value(v) for k, v in pairs(param, "--param").items()}
        body["inputs"] = pairs(input, "--input")
    gateway = client()
    accepted = call(gateway.submit, **body)
    if not wait:
        print_json(accepted.model_dump(mode="json")) if json_out else console.print(accepted.id)
        return
    run = follow(gateway, accepted.id, quiet=json_out)
    print_json(run) if json_out else print_run(run)
    if run["state"] != RunState.COMPLETED:
        raise typer.Exit(1)


def _value(text: str) -> Any:
    """`-p n=3` gives 3 and `-p tags=[1,2]` a list; anything else stays a string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def follow(gateway: "Client", run_id: str, *, quiet: bool) -> dict[str, Any]:
    """Poll until the run ends, showing its state and, for a pipeline, each step's."""
    with Live(console=console, transient=True, auto_refresh=False) as live:
        while True:
            run = _plain(call(gateway.run, run_id))
            if run and not quiet:
                live.update(_progress(run), refresh=True)
            if run and run["state"] in TERMINAL:
                return run
            time.sleep(0.2)


def _progress(run: dict[str, Any]) -> Table:
    table = Table("run", "state", "reason", box=None)
    table.add_row(run["id"], _coloured(run["state"]), run.get("reason", ""))
    for step in run.get("steps", []):
        table.add_row(f"  {step['step']}", _coloured(step["state"]), step.get("reason", ""))
    return table


@runs_app.command()
def show(run_id: str, json_out: JsonOption = False) -> None:
    """A run's state, cause, inputs, outputs, metrics, steps and status history."""
    run = _known(client(), run_id)
    print_json(run) if json_out else print_run(run)


def print_run(run: dict[str, Any]) -> None:
    target = run.get("pipeline") or run.get("component") or " ".join(run["command"])
    console.print(
        f"[bold]run {run['id']}[/bold]  {_coloured(run['state'])}  {run.get('reason', '')}"
    )
    console.print(f"what      {target}")
    if run.get("step"):
        console.print(f"step      {run['step']} of pipeline run {run['parent_id']}")
    console.print(f"cause     {_cause(run['cause'])}")
    console.print(f"executor  {executor_of(run)}   attempt {run.get('attempt', 1)}")
    console.print(f"exit code {run['exit_code'] if run['exit_code'] is not None else '-'}")
    if run.get("devices"):
        console.print(f"gpus      {', '.join(run['devices'])}")
    for name, value in run.get("params", {}).items():
        console.print(f"param     {name} = {value}")
    for name, value in run.get("reported_params", {}).items():
        console.print(f"reported  {name} = {value}")
    for name, ref in run.get("inputs", {}).items():
        version = f"@{ref['version']}" if ref.get("version") else ""
        console.print(f"input     {name} ← {ref['type']} {ref['name']}{version}")
    for name, output in run.get("outputs", {}).items():
        console.print(f"output    {name} → {output['type']} {output.get('name') or ''}")
    _print_measures(run)
    if run.get("error"):
        console.print(f"[red]error[/red]\n{run['error']}")
    if run.get("steps"):
        console.print(_progress(run))
    table = Table("at", "state", "sub-state", "reason")
    for step in run["history"]:
        table.add_row(step["at"], step["state"], step.get("substate") or "", step["reason"])
    console.print(table)


def _print_measures(run: dict[str, Any]) -> None:
    """Its metrics, then what it used beside what it asked for."""
    for name, m in run.get("metrics", {}).items():
        console.print(f"metric    {name}: last {m['last']:g}  min {m['min']:g}  max {m['max']:g}")
    for line in usage_lines(run):
        console.print(line, markup=False)


def executor_of(run: dict[str, Any]) -> str:
    """Where a run runs: its executor; a pipeline runs on none itself, its steps do."""
    if run.get("kind") != "pipeline":
        return str(run.get("executor_id") or "-")
    used = sorted({s["executor_id"] for s in run.get("steps", []) if s.get("executor_id")})
    return f"(pipeline) steps on {', '.join(used)}" if used else "(pipeline) no step placed yet"


def _cause(cause: dict[str, Any]) -> str:
    parts = [cause.get("kind", "manual")]
    for key in ("trigger", "event_id", "tick", "retry_of"):
        if cause.get(key):
            parts.append(f"{key.replace('_', ' ')} {cause[key]}")
    return ", ".join(parts)


def _coloured(state: str) -> str:
    colour = COLOURS.get(state, "white")
    return f"[{colour}]{state}[/{colour}]"


@runs_app.command("list")
def list_runs(
    status: Annotated[
        RunState | None, typer.Option("--status", "--state", help="Only this state.")
    ] = None,
    component: Annotated[str | None, typer.Option(help="Only runs of this component.")] = None,
    pipeline: Annotated[str | None, typer.Option(help="Only runs of this pipeline.")] = None,
    trigger: Annotated[str | None, typer.Option(help="Only runs this trigger started.")] = None,
    since: Annotated[str | None, typer.Option(help="ISO time: created at or after.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
    wide: Annotated[
        bool, typer.Option("--wide", help="Show what and reason whole, lines past the width.")
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """Runs, newest first, in a table that fits the terminal (--wide: nothing cut)."""
    # The gateway's JSON as it is: the client's typed views cost this command a tenth of a
    # second of model building for a table.
    filters = {
        "limit": limit,
        "state": status.value if status else None,
        "component": component,
        "pipeline": pipeline,
        "trigger": trigger,
        "since": since,
    }
    params = {k: v for k, v in filters.items() if v is not None}
    runs = call(lambda: client().request("GET", api_path("runs"), params=params).json())
    if json_out:
        print_json(runs)
    elif wide:  # lines as long as they need, past the terminal's width: nothing cut
        Console(width=WHOLE).print(runs_table(runs, width=None))
    else:
        console.print(runs_table(runs, width=console.width))


COLUMNS = ("id", "state", "what", "created", "exit", "reason")
SHARED = ("what", "reason")  # cut to fit the width; the other columns are shown whole
DROPPED_FIRST = ("created", "exit")  # when what and reason would get less than MIN_SHARED
MIN_SHARED = 30


def runs_table(runs: list[dict[str, Any]], width: int | None) -> Table:
    """Ids and states whole; what (at most a third) and reason share the rest of `width`,
    each cut at its end with … when it does not fit, never at its start; on a narrow
    terminal, created and exit make room. Without a width, every cell whole."""
    rows = [dict(zip(COLUMNS, _row(run), strict=True)) for run in runs]
    widths = {
        name: max([len(name), *(Text.from_markup(row[name]).cell_len for row in rows)])
        for name in COLUMNS
    }
    if width is not None:
        for name in DROPPED_FIRST:
            if _spare(widths, width) < MIN_SHARED:
                del widths[name]
        spare = _spare(widths, width)
        widths["what"] = min(widths["what"], max(len("what"), spare // 3))
        widths["reason"] = min(widths["reason"], max(len("reason"), spare - widths["what"]))
    table = Table(box=None)
    for name, column_width in widths.items():
        table.add_column(name, width=column_width, no_wrap=True, overflow="ellipsis")
    for row in rows:
        table.add_row(*(row[name] for name in widths))
    return table


def _spare(widths: dict[str, int], width: int) -> int:
    """What is left for what and reason: one space either side of every column."""
    return width - sum(w + 2 for name, w in widths.items() if name not in SHARED) - 4


def _row(run: dict[str, Any]) -> list[str]:
    exit_code = "" if run["exit_code"] is None else str(run["exit_code"])
    what = run.get("pipeline") or run.get("component") or " ".join(run["command"])
    reason = escape(run.get("reason", ""))
    return [
        run["id"],
        _coloured(run["state"]),
        escape(what),
        run["created_at"][:19],
        exit_code,
        reason,
    ]


@runs_app.command()
def logs(
    run_id: str,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing until the run ends.")
    ] = False,
) -> None:
    """What the run printed (stdout and stderr, in order). With -f: until it ends, then its
    final state and reason; exit 0 only if it completed."""
    gateway = client()
    _known(gateway, run_id)
    if not follow:
        for line in call(gateway.logs, run_id):
            print(line.line, flush=True)
        return
    ended = call(gateway.follow_logs, run_id, lambda line: print(line.line, flush=True))
    said = f"run {run_id} {_coloured(ended.state)}: {escape(ended.reason)}"
    err.print(said, soft_wrap=True)  # stderr: stdout stays what the run printed
    if ended.state != RunState.COMPLETED:
        raise typer.Exit(1)


def _known(gateway: "Client", run_id: str) -> dict[str, Any]:
    """The run; if there is none, `no run with id …` (exit 2).

    The scheduler records a run a moment after the gateway accepted it, so `runs logs ID`
    right after `runs submit` may come first. An id of the shape the gateway issues
    (`could_be_run_id`) gets RECORD_GRACE_S to appear, asked for every 0.2 s, with a
    note on stderr that it waits; any other id is unknown at once."""
    run = call(gateway.run, run_id)
    if run is None and could_be_run_id(run_id):
        err.print(f"run {run_id} is not recorded yet; waiting up to {RECORD_GRACE_S:g} s")
        deadline = time.monotonic() + RECORD_GRACE_S
        while run is None and time.monotonic() < deadline:
            time.sleep(0.2)
            run = call(gateway.run, run_id)
    if run is None:
        fail(f"no run with id {run_id!r}")
    return _plain(run)


def _plain(value: Any) -> Any:
    """The gateway's views as the JSON they came as: what --json prints and tables read."""
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value.model_dump(mode="json") if value is not None else None


@runs_app.command()
def abort(run_id: str) -> None:
    """Stop a run: its process tree or container, or a pipeline's running steps."""
    call(client().abort, run_id)
    console.print(f"abort of {run_id} requested")


@runs_app.command()
def retry(run_id: str, json_out: JsonOption = False) -> None:
    """Start a new run doing what RUN_ID was asked to do, with the same inputs."""
    accepted = call(client().retry, run_id)
    print_json(accepted.model_dump(mode="json")) if json_out else console.print(accepted.id)


@runs_app.command()
def metrics(run_id: str, json_out: JsonOption = False) -> None:
    """A run's metrics: summary, or every point with --json."""
    found = _plain(call(client().metrics, run_id))
    if json_out:
        print_json(found)
        return
    table = Table("metric", "last", "min", "max", "points")
    for name, m in found["summary"].items():
        table.add_row(name, f"{m['last']:g}", f"{m['min']:g}", f"{m['max']:g}", str(m["count"]))
    console.print(table)
