"""What every service process shares: broker wiring, start order, health, clean stop."""

import asyncio
import gc
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import nats.errors
from faststream.nats import NatsBroker
from faststream.security import SASLPlaintext
from nats.aio.client import DEFAULT_INBOX_PREFIX
from opentelemetry.sdk.trace import TracerProvider
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.batch_publish import publish_rows
from shared.bus import DEAD_LETTERS, Bus, Stream, now
from shared.db import create_engine, sessionmaker, wait_for_database
from shared.health import health_subject
from shared.migrate import upgrade
from shared.nats_servers import connect_options
from shared.outbox import Outbox
from shared.queries import Reply
from shared.retention import Horizons, Retention
from shared.settings import BoxopsSettings
from shared.telemetry import middlewares, tracer, tracer_provider

log = logging.getLogger(__name__)


def make_broker(settings: BoxopsSettings, provider: TracerProvider | None) -> NatsBroker:
    login = settings.nats_login()
    return NatsBroker(
        **connect_options(settings.nats_url),
        middlewares=middlewares(provider),
        graceful_timeout=15.0,  # SIGTERM lets in-flight handlers finish and ack
        # Per-message lines at DEBUG (shown when BOXOPS_LOG_LEVEL=DEBUG), through the
        # process's own handler rather than one FastStream would add.
        logger=logging.getLogger("faststream.nats"),
        log_level=logging.DEBUG,
        security=SASLPlaintext(login["user"], login["password"]) if login else None,
        inbox_prefix=login.get("inbox_prefix", DEFAULT_INBOX_PREFIX),
    )


@dataclass
class Service:
    """A service process: `start()` connects, migrates and subscribes; `stop()` drains."""

    name: str
    settings: BoxopsSettings
    broker: NatsBroker
    bus: Bus
    on_start: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    background: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)
    before_stop: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    on_stop: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    started_at: datetime | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        @self.broker.subscriber(health_subject(self.name))
        async def health() -> dict[str, Any]:
            return {
                "service": self.name,
                "instance": self.settings.instance,
                "pid": os.getpid(),
                "status": "ok" if self.started_at else "starting",
                "started_at": self.started_at.isoformat() if self.started_at else None,
            }

    def answer(
        self, subject: str, model: type[BaseModel], work: Callable[[Any], Awaitable[Reply]]
    ) -> None:
        """Subscribe `work(request)` to a request/reply subject, shared by the replicas."""

        async def on_request(request: model) -> Reply:  # type: ignore[valid-type]
            return await work(request)

        on_request.__name__ = subject.replace(".", "_")
        self.broker.subscriber(subject, queue=self.name)(on_request)

    async def start(self) -> None:
        await self.broker.connect()
        if self.settings.nats_credentials:
            # An identity on an authorized bus may not declare streams: the operator did.
            await self.bus.check_streams()
        else:
            await self.bus.declare_streams(self.settings.nats_replicas)
        for hook in self.on_start:
            await hook()
        await self.broker.start()
        await self.bus.start_consumers()
        self._tasks = [asyncio.create_task(job()) for job in self.background]
        # What starting built (modules, engines, clients) lives as long as the process:
        # frozen, the collector's full passes stop walking it (one took 240 ms under load,
        # a pause every message in flight waited out).
        gc.freeze()
        self.started_at = now()
        log.info("%s started", self.name)

    async def stop(self) -> None:
        if self.started_at is None:
            return  # never started, or stopped already
        self.started_at = None
        for hook in self.before_stop:
            await hook()
        await self.bus.stop_consumers()
        await _cancel(self._tasks)
        try:
            await self.broker.stop()  # drains the connection: what is in flight goes out
        except nats.errors.ConnectionReconnectingError:
            # NATS is out of reach: nothing can be drained; what must not be lost is kept
            # by its owner (an executor's reports are spooled) and this stop goes on.
            log.warning("%s stopped while NATS was out of reach", self.name)
            await self.broker.connection.close()
        for hook in self.on_stop:
            await hook()
        log.info("%s stopped", self.name)


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel until done: a loop can swallow one cancellation (3.11's `asyncio.wait_for`
    does when its future completes at the same moment) and go on, as a heartbeat did."""
    while pending := [task for task in tasks if not task.done()]:
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=1.0)
    for task in tasks:
        if not task.cancelled() and task.exception():
            log.error("%s ended with an error", task.get_name(), exc_info=task.exception())


async def serve(service: Service) -> None:
    """Run until SIGTERM or SIGINT, then stop cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await service.start()
    await stop.wait()
    await service.stop()


@dataclass(frozen=True)
class Database:
    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox


def attach_tables(service: Service, migrations: Path) -> async_sessionmaker[AsyncSession]:
    """Give a service its database: migrated at start, engine closed at stop."""
    engine, sessions = _migrated(service, migrations)
    service.on_stop.append(engine.dispose)
    return sessions


def attach_database(service: Service, migrations: Path, relay_interval_s: float = 1.0) -> Database:
    """Its tables, as attach_tables, with the outbox relayed and old outbox and inbox rows
    deleted."""
    settings, bus = service.settings, service.bus
    engine, sessions = _migrated(service, migrations)
    outbox = Outbox(sessions, bus.publish_raw, lambda rows: publish_rows(bus, rows))
    retention = Retention(sessions, outbox.writer, Horizons.of(settings))
    service.background.append(lambda: outbox.relay_forever(relay_interval_s))
    service.background.append(lambda: retention.sweep_forever(settings.retention_sweep_s))
    service.on_stop.append(outbox.mark_published)
    service.on_stop.append(engine.dispose)
    return Database(sessions, outbox)


def _migrated(
    service: Service, migrations: Path
) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    url = service.settings.database_url(service.name)
    schema = service.settings.database_schema(service.name)
    engine = create_engine(url, schema)

    async def migrate() -> None:
        await wait_for_database(engine)
        await upgrade(url, schema, migrations)

    service.on_start.append(migrate)
    return engine, sessionmaker(engine)


async def declare_streams(settings: BoxopsSettings) -> None:
    """Declare the streams as the identity `settings` give (the operator's), then go."""
    broker = make_broker(settings, None)
    await broker.connect()
    try:
        bus = Bus(broker, "boxops/operator", dead_letters=dead_letters(settings))
        await bus.declare_streams(settings.nats_replicas)
    finally:
        await broker.stop()


def dead_letters(settings: BoxopsSettings) -> Stream:
    return replace(DEAD_LETTERS, max_age_s=settings.dlq_max_age_s, max_bytes=settings.dlq_max_bytes)


def build_service(
    name: str,
    settings: BoxopsSettings,
    tracing: TracerProvider | None,
    *,
    source: str | None = None,
) -> Service:
    """A service with its broker (traced as settings say) and bus, ready for subscriptions."""
    provider = tracing or tracer_provider(settings, name)
    broker = make_broker(settings, provider)
    bus = Bus(
        broker,
        source=source or f"boxops/{name}",
        tracer=tracer(provider, "boxops.bus"),
        dead_letters=dead_letters(settings),
    )
    return Service(name, settings, broker, bus)
