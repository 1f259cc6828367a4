"""Sweep runs: a run of kind `sweep` holds no process. Its trials are runs of its target
that the tuner asks for, each a child of the sweep run; the scheduler begins the sweep,
refuses trials of a sweep that ended, and ends the sweep when the tuner says so (pure)."""

from dataclasses import replace
from datetime import datetime
from typing import Any

from services.scheduler.domain import Run, RunState, transition
from shared.events import RunOutput, SweepEnded, SweepStarted
from shared.registry_api import SweepView
from shared.sweep_specs import SweepSpec


def sweep_run(
    run: Run, found: SweepView, spec: SweepSpec, params: dict[str, Any], inputs: dict[str, str]
) -> Run:
    """The sweep run to record: the sweep version, its pinned target and what every trial
    gets besides the sampled params (the spec's fixed params and inputs, then the run's)."""
    fixed = {**spec.target.params, **params}
    kept = {
        "sweep": found.ref,
        "spec": found.spec,
        "target": found.target,
        "target_kind": found.target_kind,
        "params": fixed,
        "inputs": {**spec.target.inputs, **inputs},
    }
    return replace(run, kind="sweep", spec=kept, command=(), params=fixed)


def begin(run: Run, *, at: datetime) -> tuple[Run, SweepStarted]:
    """Running from the start: the search is the tuner's, no executor's."""
    spec = run.spec
    trials = spec["spec"]["trials"]
    begun = transition(
        run, RunState.RUNNING, at=at, reason=f"searching: {trials} trials of {spec['target']}"
    )
    started = SweepStarted(
        run_id=run.id,
        sweep=spec["sweep"],
        spec=spec["spec"],
        target=spec["target"],
        target_kind=spec["target_kind"],
        params=spec["params"],
        inputs=spec["inputs"],
        cause=run.cause,
        at=at,
    )
    return begun, started


def trial_refusal(parent: Run | None, parent_id: str) -> str | None:
    """Why a trial cannot join its sweep run, if it cannot."""
    if parent is None or parent.kind != "sweep":
        return f"run {parent_id} is not a sweep run"
    if parent.finished:
        return f"its sweep run {parent_id} has ended ({parent.state.value})"
    return None


def end(run: Run, ended: SweepEnded, *, at: datetime) -> Run:
    """Completed with the best trial as its outputs, or failed with the tuner's reason."""
    if ended.state == "failed" or ended.best is None:
        return transition(run, RunState.FAILED, at=at, reason=ended.reason, error=ended.reason)
    best = ended.best
    outputs = {
        "best": RunOutput(
            type="metrics",
            metrics={ended.objective: best.value},
            metadata={"run_id": best.run_id, "number": best.number, "params": best.params},
        ),
        "importances": RunOutput(type="metrics", metrics=ended.importances),
    }
    return transition(
        run,
        RunState.COMPLETED,
        at=at,
        reason=ended.reason,
        exit_code=0,
        outputs=outputs,
        metrics={ended.objective: best.value},
        reported_params=best.params,
    )
