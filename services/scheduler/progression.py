"""Moving a pipeline run forward inside a write: child runs for steps whose upstream
completed, skipped steps, cached steps, and the pipeline's own end. The child runs that
wait to be placed are returned: placing them is the caller's."""

from datetime import datetime
from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from services.scheduler import domain, intake, store
from services.scheduler.domain import Run, RunState, RunSubstate
from services.scheduler.pipeline import (
    PipelinePlan,
    StepStatus,
    progress,
    step_inputs,
    step_params,
)
from services.scheduler.plan import PlanError
from shared.bus import now
from shared.events import InputRef
from shared.specs import ComponentSpec, PipelineSpec


class Tx(Protocol):
    """The write a pipeline moves in: the runs it changed so far, and where to record more."""

    session: AsyncSession
    runs: dict[str, Run]

    def record(self, run: Run) -> Run: ...


async def advance(tx: Tx, pipeline: Run) -> list[Run]:
    """Repeat until nothing changes: a cached or refused step may unlock the next ones.
    Returns the child runs it started that wait to be placed."""
    kept = PipelinePlan.model_validate(pipeline.spec)  # as intake recorded it
    spec = PipelineSpec.model_validate(kept.spec)
    to_place: list[Run] = []
    while True:
        pipeline = tx.runs.get(pipeline.id, pipeline)
        steps = await _children(tx, pipeline.id)
        statuses = {s: StepStatus(c.state, c.id, c.substate, c.outputs) for s, c in steps.items()}
        step = progress(spec, statuses)
        at = now()
        if pipeline.stop_reason:
            skip = {
                name: f"skipped: {pipeline.stop_reason}" for name in spec.steps if name not in steps
            }
            start: list[str] = []
        else:
            skip, start = step.skip, step.start
        for name, reason in skip.items():
            child = tx.record(domain.accept(_child(pipeline, name, at), at=at))
            tx.record(domain.abort(child, reason, at=at, substate=RunSubstate.SKIPPED))
        placed = [await _start(tx, pipeline, kept, spec, name, statuses, at) for name in start]
        if start and pipeline.state is RunState.PENDING:
            pipeline = tx.record(domain.begin_pipeline(pipeline, start, at=at))
        waiting = [run for run in placed if run.state is RunState.PENDING]
        to_place += waiting
        if not skip and len(waiting) == len(placed):
            break  # nothing ended here; the next step comes with an executor's report
    await _finish(tx, pipeline, spec)
    return to_place


async def _finish(tx: Tx, pipeline: Run, spec: PipelineSpec) -> None:
    steps = await _children(tx, pipeline.id)
    if len(steps) < len(spec.steps) or any(not c.finished for c in steps.values()):
        return
    at = now()
    if pipeline.stop_reason:
        tx.record(domain.finish_pipeline(pipeline, RunState.ABORTED, pipeline.stop_reason, at=at))
        return
    statuses = {s: StepStatus(c.state, c.id, c.substate, c.outputs) for s, c in steps.items()}
    outcome = progress(spec, statuses)
    if outcome.outcome:
        if pipeline.state is RunState.PENDING:  # every step was cached, refused or skipped
            pipeline = tx.record(domain.begin_pipeline(pipeline, list(steps), at=at))
        tx.record(domain.finish_pipeline(pipeline, outcome.outcome, outcome.reason, at=at))


async def _children(tx: Tx, parent_id: str) -> dict[str, Run]:
    found = {run.id: run for run in await store.children(tx.session, parent_id)}
    found.update({run.id: run for run in tx.runs.values() if run.parent_id == parent_id})
    return {run.step: run for run in found.values() if run.step}


def _child(pipeline: Run, step: str, at: datetime) -> Run:
    return Run(
        id=f"{pipeline.id}-{step}",
        command=(),
        created_at=at,
        kind="component",
        priority=pipeline.priority,
        cause=pipeline.cause,
        pipeline=pipeline.pipeline,
        parent_id=pipeline.id,
        step=step,
    )


async def _start(
    tx: Tx,
    pipeline: Run,
    kept: PipelinePlan,
    spec: PipelineSpec,
    name: str,
    steps: dict[str, StepStatus],
    at: datetime,
) -> Run:
    """The step's child run: refused, completed from cache, or accepted to be placed."""
    found = kept.components[name]
    child = _child(pipeline, name, at)
    try:
        inputs = _inputs(pipeline, kept.literals.get(name, {}), spec, name, steps)
        child = intake.component_run(child, found, step_params(spec, name, pipeline.params), inputs)
    except PlanError as err:
        accepted = tx.record(domain.accept(child, at=at))
        return tx.record(domain.reject(accepted, f"step {name}: {err}", at=at))
    child = tx.record(domain.accept(child, at=at))
    use_cache = spec.steps[name].cache
    if use_cache is None:
        use_cache = ComponentSpec.model_validate(found.spec).cache
    source = (
        await store.cached(tx.session, child.cache_key) if use_cache and child.cache_key else None
    )
    if source is not None:
        return tx.record(domain.complete_from_cache(child, source, at=at))
    return child


def _inputs(
    pipeline: Run,
    literals: dict[str, InputRef],
    spec: PipelineSpec,
    name: str,
    steps: dict[str, StepStatus],
) -> dict[str, InputRef]:
    wired = step_inputs(spec, name, pipeline.inputs, steps)
    return {
        key: value if isinstance(value, InputRef) else literals[key] for key, value in wired.items()
    }
