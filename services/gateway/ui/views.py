"""What the pages show, made from the services' views. Pure: no I/O."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from services.gateway.ui.runs_query import Column
from shared.queries import RunView
from shared.runs import TERMINAL, RunState


def row(run: RunView, columns: Sequence[Column] = ()) -> dict[str, Any]:
    return {
        "id": run.id,
        "state": run.state,
        "kind": run.kind,
        "what": run.pipeline or run.component or " ".join(run.command),
        "cause": cause(run),
        "created": run.created_at,
        "started": started(run),
        "duration": duration(run),
        "executor": run.executor_id or "",
        "columns": [cell(run, column) for column in columns],
    }


def cell(run: RunView, column: Column) -> str:
    """A chosen column's value: a metric's last value, or a param as asked (or, not asked
    for, as the program reported it)."""
    if column.kind == "metric":
        value = run.latest.get(column.name)
        return "" if value is None else f"{value:.6g}"
    value = run.params.get(column.name, run.reported_params.get(column.name))
    return "" if value is None else str(value)


def cause(run: RunView) -> str:
    if run.cause.retry_of:
        return f"retry of {run.cause.retry_of}"
    if run.cause.kind == "manual":
        return "manual"
    return f"{run.cause.kind}: {run.cause.trigger or ''}".rstrip(": ")


def started(run: RunView) -> datetime | None:
    if run.started_at:
        return run.started_at
    return next((t.at for t in reversed(run.history) if t.state == RunState.RUNNING), None)


def duration(run: RunView) -> str:
    seconds = run.duration_s
    if seconds is None:
        start = started(run)
        end = next((t.at for t in reversed(run.history) if t.state in TERMINAL), None)
        if start is None or end is None:
            return ""
        seconds = (end - start).total_seconds()
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def detail(run: RunView) -> dict[str, Any]:
    """A run page's tables: params requested against reported, inputs and outputs."""
    names = sorted(set(run.params) | set(run.reported_params))
    params = [(n, run.params.get(n, ""), run.reported_params.get(n, "")) for n in names]
    inputs = [
        (name, ref.type, f"{ref.name}@{ref.version}" if ref.version else ref.name)
        for name, ref in run.inputs.items()
    ]
    outputs = [
        (name, out.type, out.name or ", ".join(f.path for f in out.files))
        for name, out in run.outputs.items()
    ]
    return {"row": row(run), "params": params, "inputs": inputs, "outputs": outputs}
