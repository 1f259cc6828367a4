"""Wiring of the trigger service: every event and metric in, runs and threshold events out."""

import logging
from datetime import datetime
from pathlib import Path

import httpx
from opentelemetry.sdk.trace import TracerProvider

from services.trigger.clock import fire_schedules
from services.trigger.commands import Commands
from services.trigger.deliveries import Deliveries
from services.trigger.dryrun import dry_run
from services.trigger.handlers import Incoming, Triggers
from services.trigger.settings import TriggerSettings
from services.trigger.watch import Monitors
from shared.bus import CUSTOM, EVENTS
from shared.events import MetricLogged, MetricsLogged
from shared.periodic import every
from shared.queries import (
    MONITORS_POINTS,
    TRIGGERS_APPLY,
    TRIGGERS_ENABLE,
    TRIGGERS_FIRE,
    TRIGGERS_GET,
    TRIGGERS_HISTORY,
    TRIGGERS_LIST,
    TRIGGERS_TEST,
    ApplySpec,
    DryRun,
    Enable,
    Fire,
    Named,
)
from shared.service import Service, attach_database, build_service

NAME = "trigger"
MIGRATIONS = Path(__file__).parent / "migrations" / "versions"
log = logging.getLogger(__name__)


def build_app(settings: TriggerSettings, *, tracing: TracerProvider | None = None) -> Service:
    service = build_service(NAME, settings, tracing)
    bus = service.bus
    db = attach_database(service, MIGRATIONS, settings.relay_interval_s)
    triggers = Triggers(bus, db.sessions, db.outbox)
    monitors = Monitors(triggers)
    commands = Commands(triggers, monitors)

    for stream in (EVENTS, CUSTOM):
        bus.consume_batch(
            Incoming,
            durable=f"{NAME}-{stream.name.lower()}",
            subject=">",
            stream=stream,
        )(triggers.on_events)
    event_loops = list(bus.loops)
    bus.consume_batch(
        (MetricLogged, MetricsLogged),
        durable=f"{NAME}-metrics",
        batch_size=100,
        idle=lambda: not monitors.specs,  # no monitor: metrics are not even parsed
    )(monitors.on_metrics)

    service.answer(TRIGGERS_APPLY, ApplySpec, commands.apply)
    service.answer(TRIGGERS_LIST, Named, commands.listing)
    service.answer(TRIGGERS_GET, Named, commands.show)
    service.answer(TRIGGERS_ENABLE, Enable, commands.enable)
    service.answer(TRIGGERS_FIRE, Fire, commands.fire)
    service.answer(TRIGGERS_HISTORY, Named, commands.history)
    service.answer(MONITORS_POINTS, Named, commands.points)
    service.answer(TRIGGERS_TEST, DryRun, lambda request: dry_run(bus, request))

    def caught_up() -> datetime | None:
        """When every event stream was last read to its end (debounce windows wait for it)."""
        stamps = [loop.caught_up_at for loop in event_loops]
        return None if None in stamps else min(s for s in stamps if s)

    async def load() -> None:
        await triggers.reload()
        await monitors.reload()

    async def tick() -> None:
        await triggers.reload()
        await monitors.reload()
        await fire_schedules(triggers)
        await triggers.close_debounces(caught_up())
        await monitors.check_durations()

    async def tick_forever() -> None:
        # A tick that lost a race with another replica is retried by the next, and the
        # unique (trigger, tick) keeps a tick from firing twice.
        await every(settings.tick_s, tick, "trigger tick")

    async def deliver_forever() -> None:
        # Its own loop and HTTP client: a slow receiver delays notifications, not events.
        async with httpx.AsyncClient() as http:
            await every(settings.notify_poll_s, Deliveries(triggers, http).round, "notify")

    service.on_start.append(load)
    service.background.append(tick_forever)
    service.background.append(deliver_forever)
    return service
