"""Wiring of the executor: broker, its dispatch subscription, heartbeats."""

from opentelemetry.sdk.trace import TracerProvider

from services.executor.handlers import Executor
from services.executor.settings import ExecutorSettings
from shared.events import RunDispatched, RunStopRequested
from shared.service import Service, build_service

NAME = "executor"


def build_app(settings: ExecutorSettings, *, tracing: TracerProvider | None = None) -> Service:
    service = build_service(NAME, settings, tracing, source=f"boxops/{NAME}/{settings.executor_id}")
    executor = Executor(settings, service.bus)
    service.bus.consume(
        RunDispatched,
        durable=f"{NAME}-{settings.executor_id}",
        subject=f"{RunDispatched.subject}.{settings.executor_id}",
    )(executor.on_dispatched)
    service.bus.consume(
        RunStopRequested,
        durable=f"{NAME}-{settings.executor_id}-stops",
        subject=f"{RunStopRequested.subject}.{settings.executor_id}",
    )(executor.on_stop_requested)
    service.before_stop.append(executor.stop_all)
    service.background.append(executor.heartbeat_forever)
    return service
