"""The run state machine: pure logic, no I/O; time comes in as an argument.

Public states: pending → running → completed | failed | aborted. Sub-states record the
finer steps (queued, dispatched, retrying, skipped, cached) without widening the API.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from shared.events import (
    Cause,
    DeclaredOutput,
    FileEntry,
    InputRef,
    Resources,
    RunAborted,
    RunArtifact,
    RunCompleted,
    RunDispatched,
    RunFailed,
    RunOutput,
    RunPending,
    RunRunning,
    RunTransition,
    RunUsage,
)
from shared.runs import TERMINAL, RunState, RunSubstate

ALLOWED: dict[RunState, frozenset[RunState]] = {
    # pending → pending records a sub-state change (queued → dispatched → retrying).
    RunState.PENDING: frozenset(
        {RunState.PENDING, RunState.RUNNING, RunState.COMPLETED, RunState.FAILED, RunState.ABORTED}
    ),
    # running → pending is a retry: the run waits for its next attempt.
    RunState.RUNNING: frozenset(
        {RunState.PENDING, RunState.COMPLETED, RunState.FAILED, RunState.ABORTED}
    ),
    RunState.COMPLETED: frozenset(),
    RunState.FAILED: frozenset(),
    RunState.ABORTED: frozenset(),
}


ABORTED_BY_USER = "aborted by user"


class IllegalTransition(Exception):
    def __init__(self, run_id: str, frm: RunState, to: RunState) -> None:
        super().__init__(f"run {run_id}: {frm} → {to} is not allowed")


@dataclass(frozen=True)
class Transition:
    state: RunState
    substate: RunSubstate | None
    at: datetime
    reason: str


@dataclass(frozen=True)
class Run:
    id: str
    command: tuple[str, ...]
    created_at: datetime
    kind: str = "command"  # command | component | pipeline
    env: dict[str, str] = field(default_factory=dict)
    resources: Resources = field(default_factory=Resources)
    priority: int = 0
    cause: Cause = field(default_factory=Cause)
    params: dict[str, Any] = field(default_factory=dict)  # as requested, typed and defaulted
    reported_params: dict[str, Any] = field(default_factory=dict)  # as its program logged
    inputs: dict[str, InputRef] = field(default_factory=dict)
    declared_outputs: dict[str, DeclaredOutput] = field(default_factory=dict)
    outputs: dict[str, RunOutput] = field(default_factory=dict)
    spec: dict[str, Any] = field(default_factory=dict)
    component: str | None = None
    pipeline: str | None = None
    parent_id: str | None = None
    step: str | None = None
    image: str | None = None
    backend: str = "local"
    network: bool = False
    selector: dict[str, str] = field(default_factory=dict)
    timeout_s: float | None = None
    retries: int = 0
    retry_backoff_s: float = 5.0
    attempt: int = 1
    not_before: datetime | None = None
    concurrency_key: str | None = None
    max_concurrency: int | None = None
    cache_key: str | None = None
    state: RunState = RunState.PENDING
    substate: RunSubstate | None = None
    reason: str = ""
    executor_id: str | None = None
    started_at: datetime | None = None
    stop_reason: str | None = None
    exit_code: int | None = None
    error: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)  # last value of each, at its end
    tags: dict[str, str] = field(default_factory=dict)
    artifacts: tuple[RunArtifact, ...] = ()
    logs: FileEntry | None = None  # the archive of its output
    usage: RunUsage | None = None  # what its processes used, sampled by the executor
    devices: tuple[str, ...] = ()  # the GPUs its last attempt held
    history: tuple[Transition, ...] = ()

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL

    @property
    def on_executor(self) -> bool:
        """Dispatched to or running on an executor."""
        return self.executor_id is not None and (
            self.state is RunState.RUNNING or self.substate == RunSubstate.DISPATCHED
        )


def transition(run: Run, to: RunState, *, at: datetime, reason: str, **changes: Any) -> Run:
    """Apply one transition, recording it in the history; raises IllegalTransition."""
    if to not in ALLOWED[run.state]:
        raise IllegalTransition(run.id, run.state, to)
    substate = changes.pop("substate", None)
    step = Transition(to, substate, at, reason)
    return replace(
        run, state=to, substate=substate, reason=reason, history=(*run.history, step), **changes
    )


def event_for(run: Run) -> RunTransition:
    """The `run.<state>` event announcing the run's latest transition."""
    last = run.history[-1]
    common: dict[str, Any] = {
        "run_id": run.id,
        "state": run.state.value,
        "substate": run.substate,
        "at": last.at,
        "reason": last.reason,
    }
    match run.state:
        case RunState.PENDING if run.substate == RunSubstate.DISPATCHED:
            return _dispatched(run, common)
        case RunState.PENDING:
            return RunPending(**common)
        case RunState.RUNNING:
            return RunRunning(**common, executor_id=run.executor_id or "")
        case RunState.COMPLETED:
            return RunCompleted(
                **common,
                exit_code=run.exit_code or 0,
                outputs=run.outputs,
                inputs=run.inputs,
                component=run.component,
                pipeline=run.pipeline,
                parent_run_id=run.parent_id,
                metrics=run.metrics,
                artifacts=list(run.artifacts),
            )
        case RunState.FAILED:
            return RunFailed(
                **common,
                exit_code=run.exit_code,
                error=run.error,
                component=run.component,
                pipeline=run.pipeline,
                parent_run_id=run.parent_id,
            )
        case _:
            return RunAborted(**common)


def _dispatched(run: Run, common: dict[str, Any]) -> RunDispatched:
    return RunDispatched(
        **common,
        executor_id=run.executor_id or "",
        command=list(run.command),
        template=list(run.spec["command"]) if run.kind == "component" else None,
        env=run.env,
        resources=run.resources,
        attempt=run.attempt,
        params=run.params,
        inputs=run.inputs,
        outputs=run.declared_outputs,
        image=run.image,
        backend=run.backend,
        network=run.network,
        timeout_s=run.timeout_s,
        component=run.component,
        pipeline=run.pipeline,
        step=run.step,
    )


def accept(run: Run, *, at: datetime) -> Run:
    return transition(run, RunState.PENDING, at=at, reason="accepted", substate=RunSubstate.QUEUED)


def reject(run: Run, reason: str, *, at: datetime) -> Run:
    """A request that cannot run (unknown component, bad param…): failed, with the reason."""
    return transition(
        run, RunState.FAILED, at=at, reason=reason, substate=RunSubstate.REJECTED, error=reason
    )


def wait(run: Run, reason: str, *, at: datetime) -> Run | None:
    """Record why a queued run cannot be placed yet; None if the reason is unchanged."""
    if run.reason == reason:
        return None
    return transition(run, RunState.PENDING, at=at, reason=reason, substate=run.substate)


def dispatch(run: Run, executor_id: str, *, at: datetime) -> Run:
    return transition(
        run,
        RunState.PENDING,
        at=at,
        reason=f"placed on executor {executor_id}",
        substate=RunSubstate.DISPATCHED,
        executor_id=executor_id,
    )


def begin_pipeline(run: Run, steps: list[str], *, at: datetime) -> Run:
    return transition(run, RunState.RUNNING, at=at, reason=f"started steps {', '.join(steps)}")


def start(run: Run, executor_id: str, *, at: datetime) -> Run:
    return transition(
        run,
        RunState.RUNNING,
        at=at,
        reason="process started",
        executor_id=executor_id,
        started_at=at,
    )


def end(
    run: Run,
    *,
    exit_code: int | None,
    reason: str,
    stderr_tail: str,
    outputs: dict[str, RunOutput],
    at: datetime,
) -> Run:
    """The executor says the process ended (or never started)."""
    if run.state is RunState.PENDING and exit_code is not None:
        # The start report was lost; the end report proves the process ran.
        run = start(run, run.executor_id or "", at=at)
    if run.stop_reason == ABORTED_BY_USER:
        # Ended otherwise than by the stop (a restarted executor's report): say how too.
        other = exit_code is None and reason not in ("", ABORTED_BY_USER)
        why = f"{ABORTED_BY_USER}; {reason}" if other else ABORTED_BY_USER
        return transition(run, RunState.ABORTED, at=at, reason=why, exit_code=exit_code)
    if exit_code == 0 and run.stop_reason is None:
        # The executor's reason may add what it killed that the run left running.
        return transition(
            run,
            RunState.COMPLETED,
            at=at,
            reason=reason or "exit code 0",
            exit_code=0,
            outputs=outputs,
        )
    why = run.stop_reason or reason or f"exit code {exit_code}"
    return fail(run, why, at=at, exit_code=exit_code, error=stderr_tail or why)


def fail(run: Run, reason: str, *, at: datetime, **changes: Any) -> Run:
    """Fail the run, or send it back to wait for another attempt if it has retries left."""
    if run.attempt <= run.retries:
        delay = run.retry_backoff_s * 2 ** (run.attempt - 1)
        return transition(
            run,
            RunState.PENDING,
            at=at,
            reason=f"retry {run.attempt}/{run.retries} in {delay:g} s after {reason}",
            substate=RunSubstate.RETRYING,
            attempt=run.attempt + 1,
            not_before=at + timedelta(seconds=delay),
            executor_id=None,
            stop_reason=None,
            started_at=None,
        )
    changes.setdefault("error", reason)
    return transition(run, RunState.FAILED, at=at, reason=reason, **changes)


def lose(run: Run, why: str, *, at: datetime) -> Run:
    """The run's executor is gone or no longer has it: aborted if the user asked for that
    (the executor did not answer), else failed or retried as its policy says."""
    if run.stop_reason == ABORTED_BY_USER:
        reason = f"{ABORTED_BY_USER}; the executor did not answer: {why}"
        return transition(run, RunState.ABORTED, at=at, reason=reason)
    return fail(run, why, at=at)


def request_stop(run: Run, reason: str) -> Run:
    """Remember why the executor was asked to stop, so its end report can be read right."""
    return replace(run, stop_reason=reason)


def abort(run: Run, reason: str, *, at: datetime, substate: RunSubstate | None = None) -> Run:
    return transition(run, RunState.ABORTED, at=at, reason=reason, substate=substate)


def complete_from_cache(run: Run, source: "Run", *, at: datetime) -> Run:
    return transition(
        run,
        RunState.COMPLETED,
        at=at,
        reason=f"completed (cached from {source.id})",
        substate=RunSubstate.CACHED,
        exit_code=0,
        outputs=source.outputs,
    )


def finish_pipeline(run: Run, outcome: RunState, reason: str, *, at: datetime) -> Run:
    if outcome is RunState.COMPLETED:
        return transition(run, RunState.COMPLETED, at=at, reason=reason, exit_code=0)
    if outcome is RunState.ABORTED:
        return abort(run, reason, at=at)
    return transition(run, RunState.FAILED, at=at, reason=reason, error=reason)
