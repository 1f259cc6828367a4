"""Placement: which live executor has room for a run, and why a run waits. Pure logic:
the scheduler's handler loads the queue and what executors hold, calls `place`, and
records the decisions."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import MappingProxyType

from services.scheduler.domain import Run
from shared.events import Resources

HEARTBEAT_INTERVAL = timedelta(seconds=1)  # an executor's, until it says its own
LOST_BEATS = 3  # heartbeats an executor may miss before it is taken for lost
LONGEST_INTERVAL = timedelta(seconds=60)  # heeded of what an executor says it beats at
LOST_AFTER = LOST_BEATS * HEARTBEAT_INTERVAL
BUSY = "waiting for a free executor"


@dataclass(frozen=True)
class Executor:
    id: str
    capacity: Resources
    slots: int
    backends: tuple[str, ...] = ("local",)
    labels: dict[str, str] = field(default_factory=dict)
    last_seen: datetime | None = None
    interval: timedelta = HEARTBEAT_INTERVAL  # between its heartbeats
    stopping: bool = False  # shutting down: alive, but takes no new run


@dataclass
class Load:
    """What runs placed on one executor hold."""

    runs: int = 0
    cpu: float = 0.0
    memory_mb: int = 0
    gpu: int = 0

    def add(self, needs: Resources) -> None:
        self.runs += 1
        self.cpu += needs.cpu
        self.memory_mb += needs.memory_mb
        self.gpu += needs.gpu


def alive(executor: Executor, *, at: datetime) -> bool:
    """Heard from within LOST_BEATS of its own heartbeat intervals."""
    return (
        executor.last_seen is not None and at - executor.last_seen <= LOST_BEATS * executor.interval
    )


def taking(executor: Executor, *, at: datetime) -> bool:
    """Alive and not stopping: a stopping executor would leave a dispatch to its next life."""
    return alive(executor, at=at) and not executor.stopping


def could_ever_take(run: Run, executor: Executor) -> bool:
    needs, has = run.resources, executor.capacity
    return (
        run.backend in executor.backends
        and all(executor.labels.get(k) == v for k, v in run.selector.items())
        and needs.cpu <= has.cpu
        and needs.memory_mb <= has.memory_mb
        and needs.gpu <= has.gpu
    )


def has_room(run: Run, executor: Executor, load: Load) -> bool:
    needs, has = run.resources, executor.capacity
    return (
        load.runs < executor.slots
        and load.cpu + needs.cpu <= has.cpu + 1e-9
        and load.memory_mb + needs.memory_mb <= has.memory_mb
        and load.gpu + needs.gpu <= has.gpu
    )


def choose(
    run: Run, executors: Iterable[Executor], load: dict[str, Load], *, at: datetime
) -> Executor | None:
    """The live executor that can take the run now, the least loaded first."""
    fitting = [
        e
        for e in executors
        if taking(e, at=at) and could_ever_take(run, e) and has_room(run, e, load.get(e.id, Load()))
    ]
    return min(
        fitting, key=lambda e: (load.get(e.id, Load()).runs / max(e.slots, 1), e.id), default=None
    )


def why_waiting(run: Run, executors: Iterable[Executor], *, at: datetime) -> str:
    """Why `choose` found nothing: busy executors, or none that could ever take the run."""
    live = [e for e in executors if taking(e, at=at)]
    if not live:
        if any(alive(e, at=at) for e in executors):
            return "waiting for an executor: every live one is stopping"
        return "waiting for an executor: none is alive"
    if any(could_ever_take(run, e) for e in live):
        return BUSY
    return "; ".join(_unmet(run, live))


def _unmet(run: Run, live: list[Executor]) -> list[str]:
    needs = run.resources
    problems = []
    if not any(run.backend in e.backends for e in live):
        problems.append(f"needs backend {run.backend}; no executor offers it")
    if needs.gpu and not any(e.capacity.gpu >= needs.gpu for e in live):
        most = max(e.capacity.gpu for e in live)
        has = "no executor has a gpu" if most == 0 else f"the most any executor has is {most}"
        problems.append(f"needs gpu={needs.gpu}; {has}")
    if not any(e.capacity.cpu >= needs.cpu for e in live):
        most_cpu = max(e.capacity.cpu for e in live)
        problems.append(f"needs cpu={needs.cpu:g}; the most any executor has is {most_cpu:g}")
    if not any(e.capacity.memory_mb >= needs.memory_mb for e in live):
        most_memory = max(e.capacity.memory_mb for e in live)
        problems.append(
            f"needs memory_mb={needs.memory_mb}; the most any executor has is {most_memory}"
        )
    if run.selector and not any(
        all(e.labels.get(k) == v for k, v in run.selector.items()) for e in live
    ):
        wanted = ",".join(f"{k}={v}" for k, v in sorted(run.selector.items()))
        problems.append(f"needs labels {wanted}; no executor has them")
    return problems or ["no single executor meets all of its needs"]


def placement_order(runs: Iterable[Run]) -> list[Run]:
    """Higher priority first, then the oldest."""
    return sorted(runs, key=lambda r: (-r.priority, r.created_at))


def placeable(run: Run, *, at: datetime) -> bool:
    """Waiting, and not held back until a retry is due."""
    due = run.not_before is None or run.not_before <= at
    return due and not run.finished and not run.on_executor


@dataclass(frozen=True)
class Decisions:
    """What one placement decided, in placement order."""

    dispatch: list[tuple[Run, str]] = field(default_factory=list)  # (run, executor id)
    wait: list[tuple[Run, str]] = field(default_factory=list)  # (run, why it waits)


def place(
    queue: Iterable[Run],
    executors: Iterable[Executor],
    load: Mapping[str, Load],
    active: Mapping[str, int],
    *,
    at: datetime,
) -> Decisions:
    """Place waiting runs by priority then age onto live executors with room.

    `load` is what each executor holds now, `active` the active runs per concurrency key;
    neither is changed. A run that only waits its turn for a busy executor gets no reason:
    the ordinary queue says enough.
    """
    pool = list(executors)
    held = {executor_id: replace(taken) for executor_id, taken in load.items()}
    started: dict[str, int] = {}  # runs of each concurrency key placed here
    decided = Decisions()
    for run in placement_order(r for r in queue if placeable(r, at=at)):
        limited = _concurrency_limit(run, active, started)
        executor = None if limited else choose(run, pool, held, at=at)
        if executor is None:
            reason = limited or why_waiting(run, pool, at=at)
            if reason == BUSY and run.resources.gpu:
                reason = _gpus_busy(run.resources.gpu, pool, held) or BUSY
            if reason != BUSY:
                decided.wait.append((run, reason))
            continue
        decided.dispatch.append((run, executor.id))
        held.setdefault(executor.id, Load()).add(run.resources)
        if run.concurrency_key:
            started[run.concurrency_key] = started.get(run.concurrency_key, 0) + 1
    return decided


def _gpus_busy(needs: int, executors: list[Executor], held: Mapping[str, Load]) -> str | None:
    """Why a run waits for GPUs: every executor that has as many holds some for other runs."""
    fits = [e for e in executors if e.capacity.gpu >= needs]
    free = {e.id: e.capacity.gpu - held.get(e.id, Load()).gpu for e in fits}
    if not fits or any(count >= needs for count in free.values()):
        return None
    has = ", ".join(f"{e.id} has {free[e.id]} free of {e.capacity.gpu}" for e in fits)
    return f"waiting for gpu={needs}: {has}"


def _concurrency_limit(
    run: Run, active: Mapping[str, int], started: Mapping[str, int]
) -> str | None:
    """Why no more runs of the run's concurrency key may start now, if none may."""
    key, limit = run.concurrency_key, run.max_concurrency
    if key and limit and active.get(key, 0) + started.get(key, 0) >= limit:
        return f"concurrency limit {limit} reached for {key}"
    return None


def free_slots(executors: Iterable[Executor], load: Mapping[str, Load], *, at: datetime) -> int:
    """How many more runs the live executors could take, counting slots only."""
    return sum(max(0, e.slots - load.get(e.id, Load()).runs) for e in executors if taking(e, at=at))


@dataclass(frozen=True)
class Holding:
    executor_id: str
    attempt: int
    resources: Resources
    concurrency_key: str | None


class Occupancy:
    """Who holds what: runs on executors (load) and active runs per concurrency key.

    Kept in memory so placing a run costs O(executors), not a scan of all active runs;
    rebuilt from the database at start and whenever a write fails.
    """

    def __init__(self) -> None:
        self.holdings: dict[str, Holding] = {}
        self.key_of: dict[str, str] = {}  # active run → its concurrency key
        self.per_key: dict[str, int] = {}  # concurrency key → its active runs, never 0

    def update(self, run: Run) -> None:
        self.remove(run.id)
        if run.on_executor and run.executor_id:
            self.holdings[run.id] = Holding(
                run.executor_id, run.attempt, run.resources, run.concurrency_key
            )
        key = run.concurrency_key
        if key and not run.finished and (run.on_executor or run.kind == "pipeline"):
            self.key_of[run.id] = key
            self.per_key[key] = self.per_key.get(key, 0) + 1

    def remove(self, run_id: str) -> None:
        self.holdings.pop(run_id, None)
        key = self.key_of.pop(run_id, None)
        if key is not None:
            self.per_key[key] -= 1
            if not self.per_key[key]:
                del self.per_key[key]

    def on(self, executor_id: str) -> set[tuple[str, int]]:
        """The attempts placed on one executor: (run, attempt) each."""
        return {
            (run, held.attempt)
            for run, held in self.holdings.items()
            if held.executor_id == executor_id
        }

    def loads(self) -> dict[str, Load]:
        result: dict[str, Load] = {}
        for holding in self.holdings.values():
            result.setdefault(holding.executor_id, Load()).add(holding.resources)
        return result

    def active(self) -> Mapping[str, int]:
        """Active runs per concurrency key: a read-only view, not a copy."""
        return MappingProxyType(self.per_key)
