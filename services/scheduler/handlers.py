"""The scheduler's handlers: message in → seen? → load → domain → save with outbox → publish."""

import logging
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scheduler import (
    domain,
    executors_view,
    intake,
    listed,
    placement,
    progression,
    reconcile,
    store,
)
from services.scheduler.domain import Run, RunState, RunSubstate
from services.scheduler.placement import Executor, Occupancy
from services.scheduler.plan import PlanError
from services.scheduler.reconcile import Attempt
from services.scheduler.resolver import Registry
from shared import unit_of_work
from shared.bus import Bus, now
from shared.db import refused_value
from shared.envelope import Envelope
from shared.events import (
    ExecutorHeartbeat,
    ExecutorRunEnded,
    ExecutorRunStarted,
    RunAbortRequested,
    RunRequested,
    RunStopRequested,
)
from shared.outbox import Outbox
from shared.queries import ExecutorList, Reply
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
STOP_GRACE_S = 10.0
Built = tuple[Envelope[RunRequested], Run, str | None]  # a request, its run, why it is refused


class NotLeading(RuntimeError):
    """A write of a scheduler that no longer leads: rolled back, its message redelivered."""


@dataclass
class Tx(unit_of_work.Tx):
    """One write of the scheduler: the runs it changed (latest version each) and their events."""

    scheduler: "Scheduler" = field(kw_only=True)
    runs: dict[str, Run] = field(default_factory=dict)
    absent: set[str] = field(default_factory=set)  # runs looked for and not found

    def record(self, run: Run) -> Run:
        self.runs[run.id] = run
        # Each event with the causation depth of its run, so a chain of triggers can be cut.
        self.emit(domain.event_for(run), run.cause.depth)
        return run

    async def get(self, run_id: str) -> Run | None:
        if run_id in self.runs:
            return self.runs[run_id]
        run = await store.load(self.session, run_id)
        if run is None:
            self.absent.add(run_id)
        return run

    async def before_commit(self) -> None:
        if not self.scheduler.leading:  # its lease lost meanwhile: the new leader decides
            raise NotLeading("this scheduler stopped leading during the write")
        await store.save_all(self.session, self.runs.values(), now=now(), new=self.absent)

    def after_commit(self) -> None:
        for run in self.runs.values():
            self.scheduler.occupancy.update(run)

    async def after_failure(self) -> None:
        await self.scheduler.rebuild()  # the in-memory occupancy may be ahead of the DB


class Scheduler:
    def __init__(
        self,
        bus: Bus,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        registry: Registry,
        reports_unhandled: Callable[[], Awaitable[int]],
    ) -> None:
        self.sessions = sessions
        self.registry = registry
        self.reports_unhandled = reports_unhandled
        self.reconciler = reconcile.Reconciler(stop_every=timedelta(seconds=STOP_GRACE_S + 5))
        self.executors: dict[str, Executor] = {}
        self.beats: dict[str, ExecutorHeartbeat] = {}  # each executor's last, for listing
        self.occupancy = Occupancy()
        self.started_at = now()
        self.leading = False  # only the lease's holder writes run state
        # One writer at a time (the unit of work's lock): placement reads free capacity and
        # writes dispatches, and two interleaved handlers would hand the same slot out twice.
        self.uow = UnitOfWork(bus, sessions, outbox, lambda session: Tx(session, scheduler=self))

    def writing(self) -> AbstractAsyncContextManager[Tx]:
        return self.uow.writing()

    def heard(self, beat: ExecutorHeartbeat) -> None:
        """A follower hears every heartbeat too: leading from one moment to the next, it
        knows which executors are alive and what they can take."""
        self.beats[beat.executor_id] = beat  # any replica lists the executors
        if not self.leading:  # the leader's own consumer holds each against occupancy
            self.executors[beat.executor_id] = _executor(beat)

    async def take_over(self) -> None:
        """Lead from now on: occupancy is rebuilt from the database, and an executor not
        heard from yet is given time to send its heartbeat."""
        self.reconciler = reconcile.Reconciler(stop_every=timedelta(seconds=STOP_GRACE_S + 5))
        self.started_at = now()
        await self.rebuild()
        self.leading = True

    async def rebuild(self) -> None:
        async with self.sessions() as fresh:
            self.occupancy = Occupancy()
            for run in await store.active(fresh):
                self.occupancy.update(run)

    # --- intake -------------------------------------------------------------------------

    async def on_runs_requested(self, envelopes: list[Envelope[RunRequested]]) -> None:
        """Record requested runs as pending, or refuse them with the reason; then place them.
        What is waiting is taken as one batch: one transaction for a burst of requests."""
        built = [(e, *await self._build(e)) for e in envelopes]
        try:
            await self._intake(built)
        except Exception as error:
            if not refused_value(error):
                raise  # retried: a registry or database outage passes
            # A value the database refuses fails every retry: recorded one by one, the
            # batch's other runs are not held back, and that run is refused, not lost.
            for one in built:
                await self._intake_alone(one)

    async def _intake_alone(self, one: Built) -> None:
        envelope, run, _ = one
        try:
            await self._intake([one])
        except Exception as error:
            if not refused_value(error):
                raise
            log.warning("run %s: the database refused a value of its request", run.id)
            bare = intake.bare_run(run.id, envelope.data, now())
            await self._intake([(envelope, bare, intake.UNSTORABLE_REASON)])

    async def _intake(self, built: list[Built]) -> None:
        async with self.writing() as tx:
            fresh = await tx.unseen("run.requested", [envelope.id for envelope, _, _ in built])
            placeable = []
            for envelope, run, refused in built:
                if envelope.id not in fresh or await tx.get(run.id):
                    continue
                fresh.discard(envelope.id)  # the same event twice in one batch: once
                if refused:  # run.failed is its only event: the submitter waits for one
                    tx.record(domain.reject(run, refused, at=now()))
                    continue
                run = tx.record(domain.accept(run, at=now()))
                if run.kind == "pipeline":
                    placeable += await progression.advance(tx, run)
                else:
                    placeable.append(run)
            self.place(tx, placeable)

    async def _build(self, envelope: Envelope[RunRequested]) -> tuple[Run, str | None]:
        """The run to record, and why it is refused if it is. A registry that does not answer
        raises: the batch is retried later rather than refused."""
        run_id = envelope.data.run_id or envelope.id
        try:
            return await intake.build(run_id, envelope.data, self.registry, now()), None
        except PlanError as err:
            return intake.refused_run(run_id, envelope.data, now()), str(err)

    async def on_abort_requested(self, envelope: Envelope[RunAbortRequested]) -> None:
        """Abort a run: at once if it has not started, through its executor if it has."""
        async with self.writing() as tx:
            if await tx.seen("run.abort.requested", envelope.id):
                return
            run = await tx.get(envelope.data.run_id)
            if run is None or run.finished:
                return
            await self.abort(tx, run, envelope.data.reason)

    async def abort(self, tx: Tx, run: Run, reason: str) -> None:
        if run.kind == "pipeline":
            tx.runs[run.id] = domain.request_stop(run, reason)
            for child in await store.children(tx.session, run.id):
                child = tx.runs.get(child.id, child)
                if not child.finished:
                    await self.abort(tx, child, reason)
            await progression.advance(tx, tx.runs[run.id])  # a stopping pipeline starts no step
        elif run.on_executor:
            self.stop(tx, run, reason)
        else:
            tx.record(domain.abort(run, reason, at=now()))

    def stop(self, tx: Tx, run: Run, reason: str) -> None:
        assert run.executor_id  # noqa: S101
        tx.runs[run.id] = domain.request_stop(run, reason)
        stop = RunStopRequested(
            run_id=run.id,
            executor_id=run.executor_id,
            reason=reason,
            grace_s=STOP_GRACE_S,
            attempt=run.attempt,
        )
        tx.emit(stop, run.cause.depth)

    # --- executors ----------------------------------------------------------------------

    async def on_executor_report(
        self, envelope: Envelope[ExecutorRunStarted | ExecutorRunEnded]
    ) -> None:
        """Apply what an executor says about a run's process."""
        report = envelope.data
        async with self.writing() as tx:
            if await tx.seen("executor.run", envelope.id):
                return
            run = await tx.get(report.run_id)
            if run is None or run.finished or not _reports_on(report, run):
                log.warning("ignored %s for run %s", report.subject, report.run_id)
                return
            if isinstance(report, ExecutorRunStarted):
                if run.state is RunState.PENDING:
                    tx.record(domain.start(run, report.executor_id, at=report.at))
                return
            ended = domain.end(
                run,
                exit_code=report.exit_code,
                reason=report.reason,
                stderr_tail=report.stderr_tail,
                outputs=report.outputs,
                at=report.at,
            )
            ended = replace(
                ended,
                provenance=report.provenance,
                metrics=report.metrics,
                reported_params=report.params,
                tags=report.tags,
                artifacts=tuple(report.artifacts),
                logs=report.logs,
                usage=report.usage,
                devices=tuple(report.devices),
            )
            ended = tx.record(ended)
            # A metrics output's numbers come only in this report: the run list shows them too.
            points = [("", run.id, name, None, v, report.at) for name, v in report.metrics.items()]
            await listed.keep_last_metrics(tx.session, points)
            unlocked = await self.after_end(tx, ended)
            waiting = await store.waiting(tx.session, limit=self.free_slots() * 4 + 20)
            self.place(tx, [*unlocked, *waiting])

    async def after_end(self, tx: Tx, run: Run) -> list[Run]:
        """Move the pipeline of a step that ended; the steps it starts, to be placed."""
        if run.finished and run.parent_id:
            parent = await tx.get(run.parent_id)
            if parent and not parent.finished:
                return await progression.advance(tx, parent)
        return []

    async def on_heartbeat(self, envelope: Envelope[ExecutorHeartbeat]) -> None:
        """Remember the executor; a new one may take runs that were waiting. Then hold what
        it says it runs against what it should."""
        beat = envelope.data
        known = self.executors.get(beat.executor_id)
        self.beats[beat.executor_id] = beat
        executor = self.executors[beat.executor_id] = _executor(beat)
        newly_taking = known is None or not placement.taking(known, at=now())
        if newly_taking and not beat.stopping:
            async with self.writing() as tx:
                self.place(tx, await store.waiting(tx.session, limit=10_000))
        await self.reconcile(executor, beat)

    async def list_executors(self, query: ExecutorList) -> Reply:
        """The executors heard from, as their last heartbeats showed them."""
        at = now()
        views = [executors_view.view(self.executors[i], b, at=at) for i, b in self.beats.items()]
        return Reply(result=[v.model_dump(mode="json") for v in sorted(views, key=lambda v: v.id)])

    async def reconcile(self, executor: Executor, beat: ExecutorHeartbeat) -> None:
        """Resolve the runs the executor no longer has; stop those it has that it should not."""
        held = self.occupancy.on(executor.id)
        verdict = self.reconciler.observe(
            executor.id, held, _listed(beat, held), interval=executor.interval, at=now()
        )
        # A run that ended moments ago is missing too, its end report published before this
        # heartbeat: lost only once every report is handled (and the run found still held).
        lost = verdict.lost if verdict.lost and not await self.reports_unhandled() else []
        if not (lost or verdict.strays):
            return
        async with self.writing() as tx:
            unlocked: list[Run] = []
            for run_id, attempt in lost:
                run = await tx.get(run_id)
                # Only a run the executor said it started: a dispatch it has not taken yet
                # (a slow start, an executor just up) waits in its stream, and one it took
                # before dying is reported lost by its next life, from its live notes.
                started = run is not None and run.state is RunState.RUNNING
                if run and started and (run.executor_id, run.attempt) == (executor.id, attempt):
                    ended = tx.record(domain.lose(run, reconcile.LOST, at=now()))
                    unlocked += await self.after_end(tx, ended)
            for run_id, attempt in verdict.strays:
                run = await tx.get(run_id)
                here = run and (run.executor_id, run.attempt) == (executor.id, attempt)
                if run is None or not (run.on_executor and here):
                    self.stop_stray(tx, (run_id, attempt), executor.id, run)
            if lost:
                self.place(tx, [*unlocked, *await store.waiting(tx.session, limit=10_000)])

    def stop_stray(self, tx: Tx, stray: Attempt, executor_id: str, run: Run | None) -> None:
        run_id, attempt = stray
        stop = RunStopRequested(
            run_id=run_id,
            executor_id=executor_id,
            reason=reconcile.STRAY,
            grace_s=STOP_GRACE_S,
            attempt=attempt or None,  # 0: listed by an older executor, by run only
        )
        tx.emit(stop, run.cause.depth if run else 0)
        self.reconciler.asked_to_stop(executor_id, stray, at=now())

    def free_slots(self) -> int:
        return placement.free_slots(self.executors.values(), self.occupancy.loads(), at=now())

    # --- placement ----------------------------------------------------------------------

    def place(self, tx: Tx, candidates: Iterable[Run]) -> None:
        """Dispatch what placement decides for the candidates (their latest version in
        this write, each once); record why the others wait."""
        at = now()
        queue = {run.id: tx.runs.get(run.id, run) for run in candidates}.values()
        decided = placement.place(
            queue, self.executors.values(), self.occupancy.loads(), self.occupancy.active(), at=at
        )
        for run, executor_id in decided.dispatch:
            tx.record(domain.dispatch(run, executor_id, at=at))
        for run, reason in decided.wait:
            waited = domain.wait(run, reason, at=at)
            if waited:
                tx.record(waited)

    # --- time ---------------------------------------------------------------------------

    async def tick(self) -> None:
        """Timeouts, lost executors, retries that are due, and reasons for waiting runs.
        Looked for first without the writer's lock: an idle tick is one read, and runs being
        requested or started meanwhile do not wait behind it."""
        at = now()
        async with self.sessions() as session:
            active = await store.active_states(session)
        if not any(self._needs_tick(run, at) for run in active):
            return
        async with self.writing() as tx:
            unlocked: list[Run] = []
            for run in await store.active(tx.session):
                run = tx.runs.get(run.id, run)
                if run.finished:
                    continue
                if self._timed_out(run, at):
                    self.stop(tx, run, f"timeout after {run.timeout_s:g} s")
                elif run.on_executor and self._lost(run.executor_id or "", at):
                    lost = domain.lose(run, "executor lost", at=at)
                    tx.record(lost)
                    unlocked += await self.after_end(tx, lost)
            self.place(tx, [*unlocked, *await store.waiting(tx.session, limit=10_000)])

    def _needs_tick(self, run: Any, at: datetime) -> bool:
        """`run`: a row of `store.active_states`; the same tests as the tick's own."""
        running = run.state == RunState.RUNNING
        waiting = (
            run.state == RunState.PENDING
            and run.substate in (RunSubstate.QUEUED, RunSubstate.RETRYING)
            and run.kind != "pipeline"
        )
        on_executor = run.executor_id is not None and (
            running or run.substate == RunSubstate.DISPATCHED
        )
        lost = on_executor and self._lost(run.executor_id, at)
        return bool(waiting or self._timed_out(run, at) or lost)

    @staticmethod
    def _timed_out(run: Any, at: datetime) -> bool:
        """`run`: a Run, or a row of `store.active_states` (its state as text)."""
        return bool(
            run.state == RunState.RUNNING
            and run.timeout_s
            and run.started_at
            and run.stop_reason is None
            and (at - run.started_at).total_seconds() > run.timeout_s
        )

    def _lost(self, executor_id: str, at: datetime) -> bool:
        executor = self.executors.get(executor_id)
        if executor is not None:
            return not placement.alive(executor, at=at)
        # Unknown since this scheduler started: give it time to send its first heartbeat.
        return (at - self.started_at) > placement.LOST_AFTER


def _executor(beat: ExecutorHeartbeat) -> Executor:
    return Executor(
        id=beat.executor_id,
        capacity=beat.capacity,
        slots=beat.slots,
        backends=tuple(beat.backends),
        labels=dict(beat.labels),
        last_seen=max(beat.at, now()),
        # As it says, up to a minute: a mistyped interval must not hide a dead executor.
        interval=min(timedelta(seconds=beat.interval_s or 1.0), placement.LONGEST_INTERVAL),
        stopping=beat.stopping,
    )


def _listed(beat: ExecutorHeartbeat, held: set[Attempt]) -> set[Attempt]:
    """The attempts the executor says it runs. One that lists runs only (older than attempts
    in heartbeats): the held attempts of its runs, or an unknown attempt (0) of a run not held."""
    if beat.attempts is not None:
        return {(a.run_id, a.attempt) for a in beat.attempts}
    by_run = dict(held)
    return {(run_id, by_run.get(run_id, 0)) for run_id in beat.running}


def _reports_on(report: ExecutorRunStarted | ExecutorRunEnded, run: Run) -> bool:
    """The report is about the run's current attempt, on the executor it was placed on."""
    return run.executor_id == report.executor_id and report.attempt in (None, run.attempt)
