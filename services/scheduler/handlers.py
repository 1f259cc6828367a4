"""The scheduler's handlers: message in → seen? → load → domain → save with outbox → publish."""

import asyncio
import logging
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scheduler import domain, store
from services.scheduler.domain import Executor, Run, RunState
from shared.bus import Bus, now
from shared.envelope import Envelope
from shared.events import (
    ExecutorHeartbeat,
    ExecutorRunEnded,
    ExecutorRunStarted,
    RunRequested,
    RunTransition,
)
from shared.outbox import Outbox, already_processed, stage
from shared.queries import Reply, RunGet, RunList, RunView, TransitionView

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(
        self, bus: Bus, sessions: async_sessionmaker[AsyncSession], outbox: Outbox
    ) -> None:
        self.bus = bus
        self.sessions = sessions
        self.outbox = outbox
        self.executors: dict[str, Executor] = {}
        # One writer at a time: placement reads free slots and writes dispatches, and two
        # interleaved handlers would hand the same slot out twice.
        self.lock = asyncio.Lock()

    async def on_run_requested(self, envelope: Envelope[RunRequested]) -> None:
        """Record a requested run as pending and place it if an executor has room."""
        request = envelope.data
        run_id = request.run_id or envelope.id
        async with self.lock, self.sessions() as session:
            if await already_processed(session, "run.requested", envelope.id, now=now()):
                return
            if await store.load(session, run_id) is not None:
                log.warning("run %s requested again under event %s", run_id, envelope.id)
                await session.commit()
                return
            assert request.command, "component and pipeline runs arrive with the scheduler issue"
            run = Run(
                id=run_id,
                command=tuple(request.command),
                created_at=now(),
                env=request.env,
                resources=request.resources,
                priority=request.priority,
                cause=request.cause,
            )
            run, accepted = domain.accept(run, at=now())
            placed = await self._place(session, [run])
            run, dispatched = placed[0] if placed else (run, None)
            await store.save(session, run, now=now())
            await self._commit(session, [accepted, dispatched] if dispatched else [accepted])

    async def on_executor_report(
        self, envelope: Envelope[ExecutorRunStarted | ExecutorRunEnded]
    ) -> None:
        """Apply what an executor says about a run's process."""
        report = envelope.data
        async with self.lock, self.sessions() as session:
            if await already_processed(session, "executor.run", envelope.id, now=now()):
                return
            run = await store.load(session, report.run_id)
            steps = self._apply(run, report) if run else []
            if not steps:
                log.warning("ignored %s for run %s", report.subject, report.run_id)
                await session.commit()
                return
            await store.save(session, steps[-1][0], now=now())
            events = [event for _, event in steps]
            if isinstance(report, ExecutorRunEnded):
                events += await self._save_placed(session, await store.queued(session))
            await self._commit(session, events)

    @staticmethod
    def _apply(
        run: Run, report: ExecutorRunStarted | ExecutorRunEnded
    ) -> list[tuple[Run, RunTransition]]:
        if run.finished:
            return []
        if isinstance(report, ExecutorRunStarted):
            if run.state is not RunState.PENDING:
                return []  # a redelivered start report
            return [domain.started(run, report.executor_id, at=report.at)]
        return domain.ended(
            run,
            exit_code=report.exit_code,
            reason=report.reason,
            stderr_tail=report.stderr_tail,
            at=report.at,
        )

    async def on_heartbeat(self, envelope: Envelope[ExecutorHeartbeat]) -> None:
        """Remember the executor; a new one may take runs that were waiting."""
        beat = envelope.data
        known = self.executors.get(beat.executor_id)
        self.executors[beat.executor_id] = Executor(
            id=beat.executor_id,
            slots=beat.slots,
            capacity=beat.capacity,
            backends=tuple(beat.backends),
            last_seen=max(beat.at, now()),
        )
        if known is None or not domain.alive(known, at=now()):
            await self.place_queued()

    async def place_queued(self) -> None:
        async with self.lock, self.sessions() as session:
            events = await self._save_placed(session, await store.queued(session))
            await self._commit(session, events)

    async def _place(
        self, session: AsyncSession, runs: Iterable[Run]
    ) -> list[tuple[Run, RunTransition]]:
        """Dispatch queued runs onto live executors with free slots, by priority then age."""
        busy = await store.busy_by_executor(session)
        executors = list(self.executors.values())
        placed = []
        for run in domain.placement_order(list(runs)):
            executor = domain.choose_executor(run, executors, busy, at=now())
            if executor is None:
                continue
            placed.append(domain.dispatch(run, executor.id, at=now()))
            busy[executor.id] = busy.get(executor.id, 0) + 1
        return placed

    async def _save_placed(self, session: AsyncSession, runs: list[Run]) -> list[RunTransition]:
        events = []
        for run, event in await self._place(session, runs):
            await store.save(session, run, now=now())
            events.append(event)
        return events

    async def _commit(self, session: AsyncSession, events: list[RunTransition]) -> None:
        ids = stage(session, [self.bus.envelope(event) for event in events], now=now())
        await session.commit()
        await self.outbox.publish(ids)

    async def get_run(self, query: RunGet) -> Reply:
        async with self.sessions() as session:
            run = await store.load_with_history(session, query.run_id)
        if run is None:
            return Reply(ok=False, status=404, error=f"no run with id {query.run_id!r}")
        return Reply(result=view(run).model_dump(mode="json"))

    async def list_runs(self, query: RunList) -> Reply:
        async with self.sessions() as session:
            runs = await store.listing(
                session, state=query.state, limit=query.limit, before=query.before
            )
        return Reply(result=[view(run).model_dump(mode="json") for run in runs])


def view(run: Run) -> RunView:
    return RunView(
        id=run.id,
        state=run.state.value,
        substate=run.substate,
        command=list(run.command),
        env=run.env,
        resources=run.resources,
        priority=run.priority,
        cause=run.cause,
        executor_id=run.executor_id,
        exit_code=run.exit_code,
        error=run.error,
        created_at=run.created_at,
        history=[
            TransitionView(state=t.state.value, substate=t.substate, at=t.at, reason=t.reason)
            for t in run.history
        ],
    )
