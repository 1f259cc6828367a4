"""Wiring of the tuner: sweeps and run ends in, trial requests, prunes and sweep ends out."""

from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider

from services.tuner.handlers import Tuner
from services.tuner.settings import TunerSettings
from shared.events import (
    MetricLogged,
    MetricsBatch,
    RunAborted,
    RunCompleted,
    RunFailed,
    SweepStarted,
)
from shared.periodic import every
from shared.service import Service, attach_database, build_service

NAME = "tuner"
MIGRATIONS = Path(__file__).parent / "migrations" / "versions"


def build_app(settings: TunerSettings, *, tracing: TracerProvider | None = None) -> Service:
    service = build_service(NAME, settings, tracing)
    bus = service.bus
    db = attach_database(service, MIGRATIONS, settings.relay_interval_s)
    tuner = Tuner(bus, db.sessions, db.outbox)

    # One consumer, in stored order: a sweep's start is handled before its trials' ends.
    bus.consume_batch(
        (SweepStarted, RunCompleted, RunFailed, RunAborted), durable=f"{NAME}-runs", batch_size=50
    )(tuner.on_runs)
    # Points are reported once per step (a repeat is ignored), so no inbox is kept for them;
    # while no trial runs they are acked unread.
    bus.consume_batch(
        (MetricLogged, MetricsBatch),
        durable=f"{NAME}-metrics",
        batch_size=100,
        idle=lambda: not tuner.running,
    )(tuner.on_metrics)

    service.on_start.append(tuner.load)
    service.background.append(lambda: every(settings.tick_s, tuner.tick, "tuner tick"))
    return service
