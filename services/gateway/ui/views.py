"""What the pages show, made from the services' views. Pure: no I/O."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from shared.queries import RunList, RunView
from shared.runs import TERMINAL, RunState

FILTERS = ("state", "component", "pipeline")


def run_filters(params: Mapping[str, str], limit: int) -> tuple[RunList, str | None]:
    """The runs query a page's URL asks for, or why it cannot be asked."""
    given = {name: params[name] for name in FILTERS if params.get(name)}
    state = given.get("state")
    if state is not None and state not in set(RunState):
        states = ", ".join(RunState)
        return RunList(limit=limit), f"state {state!r} is not a run state: one of {states}"
    before = params.get("before")
    try:
        until = datetime.fromisoformat(before) if before else None
    except ValueError:
        return RunList(limit=limit), f"before {before!r} is not a time (ISO 8601)"
    return RunList(**given, before=until, limit=limit), None


def form(query: RunList) -> dict[str, Any]:
    return {"filters": {name: getattr(query, name) or "" for name in FILTERS}}


def next_page(params: Mapping[str, str], last: dict[str, Any]) -> str:
    """The URL of the page after the one whose last run is `last` (keyset: older than it)."""
    kept = {name: params[name] for name in FILTERS if params.get(name)}
    return "/runs?" + urlencode(kept | {"before": last["created_at"]})


def row(run: RunView) -> dict[str, Any]:
    return {
        "id": run.id,
        "state": run.state,
        "kind": run.kind,
        "what": run.pipeline or run.component or " ".join(run.command),
        "cause": cause(run),
        "started": started(run),
        "duration": duration(run),
        "executor": run.executor_id or "",
    }


def cause(run: RunView) -> str:
    if run.cause.retry_of:
        return f"retry of {run.cause.retry_of}"
    if run.cause.kind == "manual":
        return "manual"
    return f"{run.cause.kind}: {run.cause.trigger or ''}".rstrip(": ")


def started(run: RunView) -> datetime | None:
    return next((t.at for t in run.history if t.state == RunState.RUNNING), None)


def duration(run: RunView) -> str:
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
