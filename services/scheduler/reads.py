"""Answers to queries about runs: one run with its steps and metrics, lists, series."""

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scheduler import listing, store
from services.scheduler.domain import Run
from services.scheduler.series import read_series
from services.scheduler.tables import RunRow
from shared.queries import (
    MetricPoint,
    MetricSeries,
    MetricSeriesGet,
    Reply,
    RunGet,
    RunList,
    RunMetrics,
    RunMetricsGet,
    RunView,
    StepView,
    TransitionView,
)


class Reads:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def get_run(self, query: RunGet) -> Reply:
        async with self.sessions() as session:
            run = await store.load_with_history(session, query.run_id)
            if run is None:
                return Reply(ok=False, status=404, error=f"no run with id {query.run_id!r}")
            children = await store.children(session, run.id)
            summary = await store.metric_summary(session, run.id)
        view = to_view(run)
        view.steps = [
            StepView(
                step=c.step or "",
                run_id=c.id,
                state=c.state,
                substate=c.substate,
                reason=c.reason,
                executor_id=c.executor_id,
            )
            for c in children
        ]
        view.metrics = summary
        return Reply(result=view.model_dump(mode="json"))

    async def list_runs(self, query: RunList) -> Reply:
        async with self.sessions() as session:
            found = await listing.page(session, query)
        return Reply(result=[_listed(row, latest).model_dump(mode="json") for row, latest in found])

    async def run_metrics(self, query: RunMetricsGet) -> Reply:
        async with self.sessions() as session:
            if await store.load(session, query.run_id) is None:
                return Reply(ok=False, status=404, error=f"no run with id {query.run_id!r}")
            summary = await store.metric_summary(session, query.run_id)
            points = await store.metric_series(session, query.run_id, query.points)
        series: dict[str, list[MetricPoint]] = {}
        for point in points:
            series.setdefault(point.name, []).append(
                MetricPoint(step=point.step, value=point.value, at=point.at)
            )
        metrics = RunMetrics(run_id=query.run_id, summary=summary, series=series)
        return Reply(result=metrics.model_dump(mode="json"))

    async def metric_series(self, query: MetricSeriesGet) -> Reply:
        async with self.sessions() as session:
            if await store.load(session, query.run_id) is None:
                return Reply(ok=False, status=404, error=f"no run with id {query.run_id!r}")
            read = await read_series(session, query.run_id, query.name, query.x, query.points)
        if read is None:
            error = f"run {query.run_id} has no metric {query.name!r}"
            return Reply(ok=False, status=404, error=error)
        points = [MetricPoint(step=p.step, value=p.value, at=p.at) for p in read.points]
        series = MetricSeries(
            run_id=query.run_id, name=query.name, x=query.x, count=read.count, points=points
        )
        return Reply(result=series.model_dump(mode="json"))


def _listed(row: RunRow, latest: dict[str, float]) -> RunView:
    view = to_view(store.to_domain(row))
    view.started_at, view.ended_at, view.duration_s = row.running_at, row.ended_at, row.duration_s
    view.latest = latest
    return view


def to_view(run: Run) -> RunView:
    return RunView(
        id=run.id,
        kind=run.kind,
        state=run.state.value,
        substate=run.substate,
        reason=run.reason,
        command=list(run.command),
        component=run.component,
        pipeline=run.pipeline,
        parent_id=run.parent_id,
        step=run.step,
        params=run.params,
        reported_params=run.reported_params,
        inputs=run.inputs,
        outputs=run.outputs,
        env=run.env,
        resources=run.resources,
        priority=run.priority,
        cause=run.cause,
        executor_id=run.executor_id,
        attempt=run.attempt,
        retries=run.retries,
        timeout_s=run.timeout_s,
        exit_code=run.exit_code,
        error=run.error,
        provenance=run.provenance,
        backend=run.backend,
        image=run.image,
        tags=run.tags,
        artifacts=list(run.artifacts),
        logs=run.logs,
        usage=run.usage,
        devices=list(run.devices),
        created_at=run.created_at,
        history=[
            TransitionView(state=t.state.value, substate=t.substate, at=t.at, reason=t.reason)
            for t in run.history
        ],
    )
