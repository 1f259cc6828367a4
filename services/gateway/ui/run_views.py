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
