"""What a run's page shows beyond its row: why it ran (the cause chain as links), where its
code came from, what it was given, and its states as a timeline. Pure: no I/O."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from shared.queries import RunView


@dataclass(frozen=True)
class Link:
    """One step of a cause chain: what it is, and where to see it (None: nowhere)."""

    label: str
    href: str | None = None


@dataclass(frozen=True)
class Moment:
    """A state the run entered, when, and how long it stayed (None: still in it)."""

    state: str
    at: datetime
    detail: str
    lasted_s: float | None


def cause_chain(run: RunView) -> list[Link]:
    """From the first cause to this run: monitor → threshold event → trigger → run, event →
    trigger → run, schedule → trigger → run, a retry of a run, a step of a pipeline run."""
    cause = run.cause
    chain: list[Link] = []
    if cause.monitor:
        chain.append(Link(f"monitor {cause.monitor}", f"/monitors/{_part(cause.monitor)}"))
    if cause.kind == "event":
        what = f"event {cause.subject}" if cause.subject else "event"
        chain.append(Link(f"{what} ({cause.event_id})" if cause.event_id else what))
    elif cause.kind == "schedule":
        tick = f" at {cause.tick:%Y-%m-%d %H:%M:%S}" if cause.tick else ""
        chain.append(Link(f"schedule{tick}"))
    elif cause.retry_of:
        chain.append(Link(f"run {cause.retry_of[:12]}", f"/runs/{_part(cause.retry_of)}"))
        chain.append(Link("retried"))
    else:
        chain.append(Link(f"manual, by {cause.user}" if cause.user else "manual"))
    if cause.trigger:
        chain.append(Link(f"trigger {cause.trigger}", f"/triggers/{_part(cause.trigger)}"))
    if run.parent_id:
        pipeline = f"pipeline run {run.parent_id[:12]}"
        chain.append(Link(pipeline, f"/runs/{_part(run.parent_id)}"))
        chain.append(Link(f"step {run.step}" if run.step else "step"))
    chain.append(Link("this run"))
    return chain


@dataclass(frozen=True)
class Passed:
    """An input or output of a run: what it is, and the page of that dataset or model."""

    direction: str  # input | output
    name: str
    type: str
    what: str
    href: str | None


def inputs_and_outputs(run: RunView) -> list[Passed]:
    """Inputs link to the exact version they read; dataset and model outputs to their
    dataset or model (whose versions name the run that made each)."""
    rows = []
    for name, ref in run.inputs.items():
        what = f"{ref.name}@{ref.version}" if ref.version else ref.name
        rows.append(
            Passed("input", name, ref.type, what, _version_page(ref.type, ref.name, ref.version))
        )
    for name, out in run.outputs.items():
        files = ", ".join(f.path for f in out.files)
        page = _version_page(out.type, out.name, None) if out.name else None
        rows.append(Passed("output", name, out.type, out.name or files, page))
    return rows


def _version_page(kind: str, name: str, version: int | None) -> str | None:
    if kind not in ("dataset", "model"):
        return None
    page = f"/{kind}s/{_part(name)}"
    return f"{page}/versions/{version}" if version else page


def provenance(run: RunView) -> list[tuple[str, str]]:
    """Where the run's code came from (repo, branch, commit, path, dirty), as recorded."""
    known = run.provenance
    facts = [
        (name, str(known[name])) for name in ("repo", "branch", "commit", "path") if known.get(name)
    ]
    if "dirty" in known:
        facts.append(("dirty", "yes: uncommitted changes" if known["dirty"] else "no"))
    return facts


def resources(run: RunView) -> list[tuple[str, str]]:
    """What the run asked for: cores, memory, and any other resource, with its limits."""
    asked: dict[str, Any] = run.resources.model_dump(exclude_none=True)
    shown = {
        "cpu": f"{asked.pop('cpu', 1.0):g} cores",
        "memory": f"{asked.pop('memory_mb', 0)} MiB",
    }
    shown |= {name: str(value) for name, value in asked.items() if value not in ({}, [], 0)}
    if run.timeout_s:
        shown["timeout"] = f"{run.timeout_s:g} s"
    if run.retries:
        shown["retries"] = str(run.retries)
    return list(shown.items())


def timeline(run: RunView, now: datetime) -> list[Moment]:
    """Each state the run entered, with how long it stayed; the last one until `now` unless
    the run ended there."""
    moments = []
    history = run.history
    for at, transition in enumerate(history):
        following = history[at + 1].at if at + 1 < len(history) else None
        ended = following is None and transition.state in ("completed", "failed", "aborted")
        until = following or (None if ended else now)
        lasted = (until - transition.at).total_seconds() if until else None
        detail = " ".join(part for part in (transition.substate, transition.reason) if part)
        moments.append(Moment(str(transition.state), transition.at, detail, lasted))
    return moments


def lasted(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _part(name: str) -> str:
    """A name as one path segment of a link."""
    return quote(name, safe="")
