"""Wiring of the scheduler: broker, database, outbox, subscriptions, the ticker."""

from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider

from services.scheduler.handlers import Scheduler
from services.scheduler.leader import LeaderWork
from services.scheduler.leadership import Leadership
from services.scheduler.leases import lease_for
from services.scheduler.metrics import MetricWriter
from services.scheduler.reads import Reads
from services.scheduler.resolver import Registry
from services.scheduler.settings import SchedulerSettings
from shared.bus import EVENTS
from shared.events import (
    ExecutorHeartbeat,
    ExecutorRunEnded,
    ExecutorRunStarted,
    MetricLogged,
    MetricsBatch,
    RunAbortRequested,
    RunRequested,
)
from shared.queries import (
    EXECUTORS_LIST,
    RUNS_GET,
    RUNS_LIST,
    RUNS_METRIC_SERIES,
    RUNS_METRICS,
    ExecutorList,
    MetricSeriesGet,
    RunGet,
    RunList,
    RunMetricsGet,
)
from shared.service import Service, attach_database, build_service

NAME = "scheduler"
MIGRATIONS = Path(__file__).parent / "migrations" / "versions"


def build_app(settings: SchedulerSettings, *, tracing: TracerProvider | None = None) -> Service:
    service = build_service(NAME, settings, tracing)
    broker, bus = service.broker, service.bus
    db = attach_database(service, MIGRATIONS, settings.relay_interval_s)
    registry = Registry(broker, settings.registry_timeout_s)
    reports = f"{NAME}-reports"
    scheduler = Scheduler(
        bus, db.sessions, db.outbox, registry, lambda: bus.nats.unhandled(EVENTS.name, reports)
    )
    reads = Reads(db.sessions)

    # Registry outages are retried for minutes (backoff capped at 10 s) before a request
    # is dead-lettered, so a registry restart never loses a run request.
    bus.consume_batch(RunRequested, durable=f"{NAME}-requests", max_deliver=20)(
        scheduler.on_runs_requested
    )
    bus.consume(RunAbortRequested, durable=f"{NAME}-aborts")(scheduler.on_abort_requested)
    bus.consume((ExecutorRunStarted, ExecutorRunEnded), durable=reports, subject="executor.run.*")(
        scheduler.on_executor_report
    )
    bus.consume(ExecutorHeartbeat, durable=f"{NAME}-heartbeats", deliver_new_only=True)(
        scheduler.on_heartbeat
    )
    # A metrics.logged message holds up to a thousand points: 100 of them make a big enough
    # transaction.
    bus.consume_batch((MetricLogged, MetricsBatch), durable=f"{NAME}-metrics", batch_size=100)(
        MetricWriter(db.sessions).on_metrics
    )

    service.answer(RUNS_GET, RunGet, reads.get_run)
    service.answer(EXECUTORS_LIST, ExecutorList, scheduler.list_executors)
    service.answer(RUNS_LIST, RunList, reads.list_runs)
    service.answer(RUNS_METRICS, RunMetricsGet, reads.run_metrics)
    service.answer(RUNS_METRIC_SERIES, MetricSeriesGet, reads.metric_series)

    # Only the leader changes run state: it alone places (occupancy is in its memory), ticks
    # and consumes requests, aborts, reports and heartbeats. Followers answer reads and
    # record metric points (keyed rows: any replica may write them).
    bus.held |= {f"{NAME}-requests", f"{NAME}-aborts", reports, f"{NAME}-heartbeats"}

    @service.broker.subscriber(ExecutorHeartbeat.subject)  # every replica's, not shared
    async def heard(beat: ExecutorHeartbeat) -> None:
        scheduler.heard(beat)

    leader = LeaderWork(bus, scheduler, settings.tick_s)
    url, schema = settings.database_url(NAME), settings.database_schema(NAME)
    leadership = Leadership(lease_for(url, schema, settings.instance), leader.lead, leader.follow)
    service.background.append(leadership.run_forever)
    service.before_stop.append(leadership.resign)
    return service
