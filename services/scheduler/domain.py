"""The run state machine and placement: pure logic, no I/O; time comes in as an argument."""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from shared.events import (
    Cause,
    Resources,
    RunAborted,
    RunCompleted,
    RunDispatched,
    RunFailed,
    RunPending,
    RunRunning,
    RunTransition,
)


class RunState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    ABORTED = "aborted"


TERMINAL = frozenset({RunState.COMPLETED, RunState.FAILED, RunState.ABORTED})

ALLOWED: dict[RunState, frozenset[RunState]] = {
    # pending → pending records a sub-state change (queued → dispatched).
    RunState.PENDING: frozenset(
        {RunState.PENDING, RunState.RUNNING, RunState.FAILED, RunState.ABORTED}
    ),
    RunState.RUNNING: frozenset({RunState.COMPLETED, RunState.FAILED, RunState.ABORTED}),
    RunState.COMPLETED: frozenset(),
    RunState.FAILED: frozenset(),
    RunState.ABORTED: frozenset(),
}


class IllegalTransition(Exception):
    def __init__(self, run_id: str, frm: RunState, to: RunState) -> None:
        super().__init__(f"run {run_id}: {frm} → {to} is not allowed")


@dataclass(frozen=True)
class Transition:
    state: RunState
    substate: str | None
    at: datetime
    reason: str


@dataclass(frozen=True)
class Run:
    id: str
    command: tuple[str, ...]
    created_at: datetime
    env: dict[str, str] = field(default_factory=dict)
    resources: Resources = field(default_factory=Resources)
    priority: int = 0
    cause: Cause = field(default_factory=Cause)
    state: RunState = RunState.PENDING
    substate: str | None = None
    executor_id: str | None = None
    exit_code: int | None = None
    error: str = ""
    history: tuple[Transition, ...] = ()

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL


def transition(
    run: Run,
    to: RunState,
    *,
    at: datetime,
    reason: str,
    substate: str | None = None,
    executor_id: str | None = None,
    exit_code: int | None = None,
    error: str = "",
) -> tuple[Run, RunTransition]:
    """Apply one transition; returns the new run and the event that announces it."""
    if to not in ALLOWED[run.state]:
        raise IllegalTransition(run.id, run.state, to)
    changed = replace(
        run,
        state=to,
        substate=substate,
        executor_id=executor_id or run.executor_id,
        exit_code=exit_code if exit_code is not None else run.exit_code,
        error=error or run.error,
        history=(*run.history, Transition(to, substate, at, reason)),
    )
    return changed, _event(changed, at, reason)


def _event(run: Run, at: datetime, reason: str) -> RunTransition:
    common = {"run_id": run.id, "state": run.state.value, "substate": run.substate, "at": at}
    common["reason"] = reason
    match run.state:
        case RunState.PENDING if run.substate == "dispatched":
            assert run.executor_id
            return RunDispatched(
                **common,
                executor_id=run.executor_id,
                command=list(run.command),
                env=run.env,
                resources=run.resources,
            )
        case RunState.PENDING:
            return RunPending(**common)
        case RunState.RUNNING:
            assert run.executor_id
            return RunRunning(**common, executor_id=run.executor_id)
        case RunState.COMPLETED:
            return RunCompleted(**common, exit_code=run.exit_code or 0)
        case RunState.FAILED:
            return RunFailed(**common, exit_code=run.exit_code, error=run.error)
        case _:
            return RunAborted(**common)


def accept(run: Run, *, at: datetime) -> tuple[Run, RunTransition]:
    return transition(run, RunState.PENDING, at=at, reason="accepted", substate="queued")


def dispatch(run: Run, executor_id: str, *, at: datetime) -> tuple[Run, RunTransition]:
    return transition(
        run,
        RunState.PENDING,
        at=at,
        reason=f"placed on executor {executor_id}",
        substate="dispatched",
        executor_id=executor_id,
    )


def started(run: Run, executor_id: str, *, at: datetime) -> tuple[Run, RunTransition]:
    return transition(
        run, RunState.RUNNING, at=at, reason="process started", executor_id=executor_id
    )


def ended(
    run: Run, *, exit_code: int | None, reason: str, stderr_tail: str, at: datetime
) -> list[tuple[Run, RunTransition]]:
    """The executor says the process ended (or never started)."""
    steps = []
    if run.state is RunState.PENDING and exit_code is not None:
        # The start report was lost; the end report proves the process ran.
        run, event = transition(run, RunState.RUNNING, at=at, reason="process started")
        steps.append((run, event))
    if exit_code == 0:
        steps.append(transition(run, RunState.COMPLETED, at=at, reason="exit code 0", exit_code=0))
    else:
        steps.append(
            transition(
                run,
                RunState.FAILED,
                at=at,
                reason=reason or f"exit code {exit_code}",
                exit_code=exit_code,
                error=stderr_tail or reason,
            )
        )
    return steps


@dataclass(frozen=True)
class Executor:
    id: str
    slots: int
    capacity: Resources
    backends: tuple[str, ...]
    last_seen: datetime


HEARTBEAT_INTERVAL = timedelta(seconds=1)
LOST_AFTER = 3 * HEARTBEAT_INTERVAL


def alive(executor: Executor, *, at: datetime) -> bool:
    return at - executor.last_seen <= LOST_AFTER


def choose_executor(
    run: Run, executors: list[Executor], busy: dict[str, int], *, at: datetime
) -> Executor | None:
    """The live executor with a free slot and enough resources, least busy first."""
    fitting = [
        e
        for e in executors
        if alive(e, at=at)
        and busy.get(e.id, 0) < e.slots
        and e.capacity.gpu >= run.resources.gpu
        and "local" in e.backends
    ]
    return min(fitting, key=lambda e: (busy.get(e.id, 0) / max(e.slots, 1), e.id), default=None)


def placement_order(runs: list[Run]) -> list[Run]:
    """Higher priority first, then the oldest."""
    return sorted(runs, key=lambda r: (-r.priority, r.created_at))
