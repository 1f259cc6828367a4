"""The tuner's handlers: a sweep starts its study, each trial's end is told to it and more
trials are asked for, objective points reach the pruner, and the sweep's end is announced.
Each handler: seen? → load (the study rebuilt from its rows if not in memory) → Optuna →
save rows with the outbox."""

import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.tuner import domain, store
from services.tuner.study import Study, grid_size
from services.tuner.tables import StudyRow, TrialRow
from shared import unit_of_work
from shared.bus import Bus, now
from shared.envelope import Envelope
from shared.events import (
    BestTrial,
    Cause,
    MetricLogged,
    MetricsBatch,
    RunAborted,
    RunAbortRequested,
    RunCompleted,
    RunFailed,
    RunRequested,
    SweepEnded,
    SweepStarted,
)
from shared.outbox import Outbox
from shared.sweep_specs import SweepSpec
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
RunEvent = SweepStarted | RunCompleted | RunFailed | RunAborted


@dataclass
class Tx(unit_of_work.Tx):
    tuner: "Tuner" = field(kw_only=True)

    async def after_failure(self) -> None:
        # The studies in memory may hold what did not commit: rebuilt from the rows.
        self.tuner.studies.clear()


class Tuner:
    def __init__(
        self, bus: Bus, sessions: async_sessionmaker[AsyncSession], outbox: Outbox
    ) -> None:
        self.sessions = sessions
        self.uow = UnitOfWork(bus, sessions, outbox, lambda session: Tx(session, tuner=self))
        self.studies: dict[str, Study] = {}
        self.running: set[str] = set()  # trial runs whose points may be pruned

    async def load(self) -> None:
        async with self.sessions() as session:
            self.running = {row.run_id for row in await store.running_trials(session)}

    @asynccontextmanager
    async def writing(self, depth: int = 0) -> AsyncIterator[Tx]:
        async with self.uow.writing(depth) as tx:
            yield tx

    async def study(self, session: AsyncSession, row: StudyRow) -> Study:
        if row.run_id not in self.studies:
            spec = SweepSpec.model_validate(row.spec)
            self.studies[row.run_id] = Study(spec, await store.trials(session, row.run_id))
        return self.studies[row.run_id]

    # --- run events ------------------------------------------------------------------------

    async def on_runs(self, envelopes: list[Envelope[Any]]) -> None:
        """Sweeps that begin and runs that end, in the order they were stored."""
        for envelope in envelopes:
            async with self.writing(envelope.causation_depth) as tx:
                if await tx.seen("tuner-runs", envelope.id):
                    continue
                await self._on_run(tx, envelope.data)

    async def _on_run(self, tx: Tx, event: RunEvent) -> None:
        if isinstance(event, SweepStarted):
            await self.start(tx, event)
            return
        trial = await store.trial(tx.session, event.run_id)
        if trial is not None:
            await self.trial_ended(tx, trial, event)
        elif isinstance(event, RunCompleted) and event.parent_run_id:
            await self.step_ended(tx, event)
        else:
            await self.sweep_ended_elsewhere(tx, event)

    async def start(self, tx: Tx, event: SweepStarted) -> None:
        """A new study; its first trials asked for."""
        if await store.study(tx.session, event.run_id):
            return
        row = StudyRow(
            run_id=event.run_id,
            sweep=event.sweep,
            spec=event.spec,
            target=event.target,
            target_kind=event.target_kind,
            params=event.params,
            inputs=event.inputs,
            cause=event.cause.model_dump(mode="json"),
            state=store.SEARCHING,
            started_at=event.at,
        )
        tx.session.add(row)
        study = self.studies[row.run_id] = Study(SweepSpec.model_validate(event.spec), [])
        await self.advance(tx, row, study, [])

    async def advance(self, tx: Tx, row: StudyRow, study: Study, rows: list[TrialRow]) -> None:
        """Ask for trials up to `parallel` running; end the sweep once none is left."""
        total = domain.total(study.spec, grid_size(study.spec))
        late = domain.timed_out(study.spec, row.started_at, now())
        wanted = domain.to_ask(study.spec, store.counts(rows), total=total, timed_out=late)
        for _ in range(wanted):
            rows.append(self.ask(tx, row, study))
        if domain.over(store.counts(rows), total=total, timed_out=late):
            self.end(tx, row, study, rows)

    def ask(self, tx: Tx, row: StudyRow, study: Study) -> TrialRow:
        asked = study.ask()
        trial = TrialRow(
            run_id=domain.trial_run_id(row.run_id, asked.number),
            study_id=row.run_id,
            number=asked.number,
            params=asked.params,
            system_attrs=asked.system_attrs,
            state="running",
            requested_at=now(),
        )
        tx.session.add(trial)
        target = {row.target_kind: row.target}
        tx.emit(
            RunRequested(
                run_id=trial.run_id,
                **target,
                params={**row.params, **asked.params},
                inputs=row.inputs,
                parent_run_id=row.run_id,
                cause=Cause.model_validate(row.cause),
            )
        )
        self.running.add(trial.run_id)
        return trial

    async def trial_ended(
        self, tx: Tx, trial: TrialRow, event: RunCompleted | RunFailed | RunAborted
    ) -> None:
        """Tell the study how the trial ended; go on, or end the sweep."""
        if trial.state not in store.RUNNING:
            return
        row = await store.study(tx.session, trial.study_id)
        if row is None:
            return
        study = await self.study(tx.session, row)
        failure = self.outcome(trial, event, study.spec.objective.metric)
        trial.ended_at = now()
        tx.session.add(trial)
        study.tell(trial.number, trial.state, trial.value)
        self.running.discard(trial.run_id)
        if row.state != store.SEARCHING:
            return
        rows = await store.trials(tx.session, row.run_id)
        if failure:
            self.end(tx, row, study, rows, failure=failure)
        else:
            await self.advance(tx, row, study, rows)

    @staticmethod
    def outcome(
        trial: TrialRow, event: RunCompleted | RunFailed | RunAborted, objective: str
    ) -> str | None:
        """Record the trial's end on its row; why the sweep must fail, if it must."""
        if isinstance(event, RunCompleted):
            value = {**trial.metrics, **event.metrics}.get(objective)
            if value is None or not math.isfinite(value):
                trial.state = "failed"
                trial.reason = domain.no_value(objective, trial.number, trial.run_id)
                return trial.reason
            trial.state, trial.value = "completed", float(value)
        elif trial.state == "pruning":
            # Stopped at the tuner's request: the scheduler ends a run stopped for a reason
            # other than a user's abort as failed, with that reason.
            trial.state = "pruned"
        else:
            trial.state = "failed"
            trial.reason = event.reason
        return None

    async def step_ended(self, tx: Tx, event: RunCompleted) -> None:
        """A pipeline trial's step: its metrics are the trial's, read when the trial ends."""
        trial = await store.trial(tx.session, event.parent_run_id or "")
        if trial is not None and event.metrics:
            trial.metrics = {**trial.metrics, **event.metrics}
            tx.session.add(trial)

    async def sweep_ended_elsewhere(self, tx: Tx, event: RunEvent) -> None:
        """The sweep run ended without the tuner (aborted): its study asks for nothing more."""
        row = await store.study(tx.session, event.run_id)
        if row is None or row.state != store.SEARCHING:
            return
        row.state, row.ended_at = store.ENDED, now()
        row.reason = f"the sweep run ended: {getattr(event, 'reason', '')}"
        tx.session.add(row)
        self.studies.pop(row.run_id, None)

    def end(
        self,
        tx: Tx,
        row: StudyRow,
        study: Study,
        rows: list[TrialRow],
        *,
        failure: str | None = None,
    ) -> None:
        """Announce the sweep's end: its best trial, or why there is none."""
        counts = store.counts(rows)
        objective = study.spec.objective.metric
        best = None if failure else study.best()
        ended = SweepEnded(
            run_id=row.run_id,
            state="failed",
            reason=failure or "",
            objective=objective,
            trials={
                "completed": counts.completed,
                "failed": counts.failed,
                "pruned": counts.pruned,
            },
        )
        if best is not None and best.value is not None:
            ended.state = "completed"
            ended.reason = domain.best_reason(objective, best.number, best.value, counts)
            ended.best = BestTrial(
                run_id=domain.trial_run_id(row.run_id, best.number),
                number=best.number,
                value=best.value,
                params=best.params,
            )
            ended.importances = study.importances()
        elif not failure:
            last = next((r.reason for r in reversed(rows) if r.reason), "")
            ended.reason = domain.all_failed(counts, last)
        for trial in rows:
            if trial.state in store.RUNNING:
                tx.emit(
                    RunAbortRequested(run_id=trial.run_id, reason=f"sweep ended: {ended.reason}")
                )
        row.state, row.reason, row.ended_at = store.ENDED, ended.reason, now()
        tx.session.add(row)
        tx.emit(ended)

    # --- metrics ---------------------------------------------------------------------------

    async def on_metrics(self, envelopes: list[Envelope[Any]]) -> None:
        """Points of running trials: the objective's intermediate values reach the pruner."""
        points = [p for e in envelopes for p in _points(e.data) if p[0] in self.running]
        if not points:
            return  # nothing of a trial: acked, nothing written
        async with self.writing() as tx:
            for run_id, name, value, step in points:
                await self.report(tx, run_id, name, value, step)

    async def report(self, tx: Tx, run_id: str, name: str, value: float, step: int) -> None:
        trial = await store.trial(tx.session, run_id)
        if trial is None or trial.state != "running" or not math.isfinite(value):
            return
        row = await store.study(tx.session, trial.study_id)
        if row is None or row.state != store.SEARCHING:
            return
        study = await self.study(tx.session, row)
        if study.spec.pruner == "none" or name != study.spec.objective.metric:
            return
        why = study.report(trial.number, step, value)
        trial.steps = {**trial.steps, str(step): value}
        if why:
            trial.state, trial.reason = "pruning", why
            tx.emit(RunAbortRequested(run_id=run_id, reason=why))
        tx.session.add(trial)

    # --- time ------------------------------------------------------------------------------

    async def tick(self) -> None:
        """Sweeps past their timeout with no trial running end now."""
        async with self.sessions() as session:
            late = [
                row.run_id
                for row in await store.searching(session)
                if domain.timed_out(SweepSpec.model_validate(row.spec), row.started_at, now())
            ]
        for run_id in late:
            async with self.writing() as tx:
                row = await store.study(tx.session, run_id)
                if row is not None and row.state == store.SEARCHING:
                    study = await self.study(tx.session, row)
                    await self.advance(tx, row, study, await store.trials(tx.session, run_id))


def _points(event: MetricLogged | MetricsBatch) -> list[tuple[str, str, float, int]]:
    """(run id, name, value, step) of each point with a step and a run."""
    if isinstance(event, MetricLogged):
        if event.run_id and event.step is not None:
            return [(event.run_id, event.name, event.value, event.step)]
        return []
    run_id = event.run_id or ""
    return [
        (run_id, p["name"], p["value"], step)
        for p in event.points
        if (step := p.get("step")) is not None and run_id
    ]
