"""Wiring of the scheduler: broker, database, outbox, subscriptions."""

from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider

from services.scheduler.handlers import Scheduler
from services.scheduler.settings import SchedulerSettings
from shared.events import ExecutorHeartbeat, ExecutorRunEnded, ExecutorRunStarted, RunRequested
from shared.queries import RUNS_GET, RUNS_LIST, Reply, RunGet, RunList
from shared.service import Service, attach_database, build_service

NAME = "scheduler"
MIGRATIONS = Path(__file__).parent / "migrations" / "versions"


def build_app(settings: SchedulerSettings, *, tracing: TracerProvider | None = None) -> Service:
    service = build_service(NAME, settings, tracing)
    broker, bus = service.broker, service.bus
    db = attach_database(service, MIGRATIONS, settings.relay_interval_s)
    scheduler = Scheduler(bus, db.sessions, db.outbox)

    bus.consume(RunRequested, durable=NAME)(scheduler.on_run_requested)
    bus.consume(
        (ExecutorRunStarted, ExecutorRunEnded), durable=f"{NAME}-reports", subject="executor.run.*"
    )(scheduler.on_executor_report)
    bus.consume(ExecutorHeartbeat, durable=f"{NAME}-heartbeats", deliver_new_only=True)(
        scheduler.on_heartbeat
    )

    @broker.subscriber(RUNS_GET, queue=NAME)
    async def get_run(query: RunGet) -> Reply:
        return await scheduler.get_run(query)

    @broker.subscriber(RUNS_LIST, queue=NAME)
    async def list_runs(query: RunList) -> Reply:
        return await scheduler.list_runs(query)

    return service
