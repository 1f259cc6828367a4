"""What a sweep does next: how many trials to ask for, when it is over, how it ended and
how a trial's run ended. Pure: rows and time come in, decisions go out."""

from dataclasses import dataclass
from datetime import datetime

from shared.sweep_specs import SweepSpec


@dataclass(frozen=True)
class Counts:
    asked: int
    running: int  # running or being pruned
    completed: int = 0
    failed: int = 0
    pruned: int = 0


def total(spec: SweepSpec, grid: int | None) -> int:
    """Trials in all: a grid has no more than its points."""
    return min(spec.trials, grid) if grid is not None else spec.trials


def timed_out(spec: SweepSpec, started_at: datetime, at: datetime) -> bool:
    return spec.timeout is not None and (at - started_at).total_seconds() >= spec.timeout


def to_ask(spec: SweepSpec, counts: Counts, *, total: int, timed_out: bool) -> int:
    """New trials to ask for now: `parallel` at most running, `total` at most in all."""
    if timed_out:
        return 0
    return max(0, min(spec.parallel - counts.running, total - counts.asked))


def over(counts: Counts, *, total: int, timed_out: bool) -> bool:
    """No trial runs and none is left to ask for."""
    return counts.running == 0 and (counts.asked >= total or timed_out)


def trial_run_id(sweep_run_id: str, number: int) -> str:
    """A trial's run id, the same each time it is asked for: a request sent again is one run."""
    return f"{sweep_run_id}-t{number}"


def no_value(objective: str, number: int, run_id: str) -> str:
    return (
        f"the objective metric {objective!r} was not logged by trial {number} (run {run_id}): "
        "the target never logs it"
    )


def all_failed(counts: Counts, last: str) -> str:
    ended = f"{counts.failed} failed" + (f", {counts.pruned} pruned" if counts.pruned else "")
    why = f"; the last: {last}" if last else ""
    return f"no trial completed ({ended}){why}"


def best_reason(objective: str, number: int, value: float, counts: Counts) -> str:
    return (
        f"best trial {number}: {objective} {value:.6g} "
        f"({counts.completed} completed, {counts.failed} failed, {counts.pruned} pruned)"
    )
