"""The trigger service's handlers: events in → matching triggers decide → runs requested.

Every decision is a firing row (fired, skipped, queued, debounced: a window that fires keeps
its status and gains its run), written with the events it publishes in one transaction, so
`history` answers why a run did or did not start.
"""

import logging
import uuid
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ConfigDict
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.trigger import store
from services.trigger.matcher import Matcher
from services.trigger.notify import body as message_body
from services.trigger.policy import Decision, admit, decide
from services.trigger.tables import DeliveryRow, FiringRow, SeenRow
from shared import unit_of_work
from shared.bus import Bus, new_id, now
from shared.envelope import TYPE_PREFIX, Envelope
from shared.events import (
    Cause,
    Event,
    MetricAboveThreshold,
    MetricBelowThreshold,
    RunAbortRequested,
    RunRequested,
    TriggerFired,
)
from shared.outbox import Outbox
from shared.trigger_specs import TriggerSpec
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
THRESHOLD_SUBJECTS = {MetricBelowThreshold.subject, MetricAboveThreshold.subject}
# A trigger's policies count its runs that have not ended (requested, pending and running
# alike): only a run's end changes that, so only ends are followed (one write per run).
RUN_ENDS = {"run.completed", "run.failed", "run.aborted"}
STATUS = {"fire": "fired", "skip": "skipped", "queue": "queued", "debounce": "debounced"}


class Incoming(Event):
    """Any event: triggers may name any subject, so the body is kept as it came."""

    model_config = ConfigDict(extra="allow")
    subject = ">"


@dataclass
class Tx(unit_of_work.Tx):
    windows: dict[str, FiringRow] = field(default_factory=dict)  # open debounce windows


class Triggers:
    def __init__(
        self, bus: Bus, sessions: async_sessionmaker[AsyncSession], outbox: Outbox
    ) -> None:
        self.bus = bus
        self.sessions = sessions
        self.specs: dict[str, TriggerSpec] = {}
        self.matcher = Matcher([])
        self.loaded_at: datetime | None = None
        self.watched: set[str] = set()  # runs triggers started that have not ended
        # Handlers of one replica write one at a time (the unit of work's lock); replicas
        # are kept apart by the unique (trigger, key) of firings.
        self.uow = UnitOfWork(bus, sessions, outbox, Tx)

    def writing(self) -> AbstractAsyncContextManager[Tx]:
        return self.uow.writing()

    async def reload(self) -> None:
        """Pick up triggers applied, and runs started, through any replica."""
        async with self.sessions() as session:
            self.watched = set(await store.all_active_runs(session))
            changed = await store.last_change(session)
            if self.loaded_at is not None and changed == self.loaded_at:
                return
            specs = await store.enabled_triggers(session)
        self.specs = {spec.name: spec for spec in specs}
        self.matcher = Matcher(specs)
        self.loaded_at = changed

    # --- events -------------------------------------------------------------------------

    async def on_events(self, envelopes: list[Envelope[Incoming]]) -> None:
        """Match events against every trigger and track the runs triggers started; a batch
        is one transaction, so a storm of events costs a few commits, not thousands."""
        relevant = []
        for envelope in envelopes:
            data = envelope.data.model_dump()
            matched = self.matcher.match(envelope.subject, data)
            tracked = envelope.subject in RUN_ENDS and data.get("run_id") in self.watched
            if matched or tracked:
                relevant.append((envelope, data, matched, tracked))
        if not relevant:
            return
        async with self.writing() as tx:
            for envelope, data, matched, tracked in relevant:
                await self._handle(tx, envelope, data, matched, bool(tracked))

    async def _handle(
        self,
        tx: Tx,
        envelope: Envelope[Incoming],
        data: dict[str, Any],
        matched: list[tuple[TriggerSpec, str]],
        tracked: bool,
    ) -> None:
        # No inbox here: every effect is idempotent by itself (a firing is unique per trigger
        # and event id, a run's end is recorded once, all_of events are upserted).
        if tracked:
            await self._track_run(tx, str(data["run_id"]), str(data.get("state")))
        for spec, condition in matched:
            context = await self._context(tx, spec, condition, envelope, data)
            if context is not None:
                await self.act(tx, spec, context, key=f"event:{envelope.id}", envelope=envelope)

    async def _context(
        self,
        tx: Tx,
        spec: TriggerSpec,
        condition: str,
        envelope: Envelope[Incoming],
        data: dict[str, Any],
    ) -> dict[str, Any] | None:
        base = {"trigger": {"name": spec.name}}
        if spec.all_of is None:
            return base | {"event": data}
        # all_of: remember this condition's event; fire once all are seen within the window
        await tx.session.merge(
            SeenRow(
                trigger=spec.name,
                condition=condition,
                event_id=envelope.id,
                data=data,
                at=envelope.time,
            )
        )
        await tx.session.flush()
        since = now() - timedelta(seconds=spec.all_of.window)
        seen = await store.seen(tx.session, spec.name, since)
        if set(seen) != set(spec.all_of.events):
            return None
        await store.forget_seen(tx.session, spec.name)
        return base | {"events": {name: row.data for name, row in seen.items()}}

    async def act(
        self,
        tx: Tx,
        spec: TriggerSpec,
        context: dict[str, Any],
        *,
        key: str,
        envelope: Envelope[Incoming] | None = None,
        tick: datetime | None = None,
    ) -> FiringRow | None:
        """Decide and record; None when another replica already decided this key."""
        depth = envelope.causation_depth if envelope else 0
        # A debounced trigger meets its concurrency policy when its window closes; `allow`
        # needs no look at the runs at all.
        policed = not spec.debounce and spec.concurrency != "allow"
        active = await store.active_runs(tx.session, spec.name) if policed else []
        attributes = _attributes(spec, envelope, key)
        decision = decide(spec, context, depth=depth, active_runs=active, attributes=attributes)
        if decision.action == "debounce":
            # Windows are measured in event time, so a backlog read late still lands in the
            # window it was published in.
            at = envelope.time if envelope else now()
            window = tx.windows.get(spec.name)
            if window is None or window.due_at is None or window.due_at < at:
                window = await store.debounce_window(tx.session, spec.name, at)
            if window is not None and window.status == "debounced" and window.run_id is None:
                window.params, window.inputs = decision.params, decision.inputs
                window.command = decision.command
                window.event_id = envelope.id if envelope else None
                tx.session.add(window)
                tx.windows[spec.name] = window  # the rest of a storm's batch needs no query
                return window
            if window is not None:
                return None  # its window already closed and fired: part of that burst
        start = envelope.time if envelope and spec.debounce else now()
        firing = FiringRow(
            id=new_id(),
            trigger=spec.name,
            key=key,
            status=STATUS[decision.action],
            reason=decision.reason,
            at=now(),
            due_at=start + timedelta(seconds=spec.debounce) if spec.debounce else None,
            event_id=envelope.id if envelope else None,
            tick=tick,
            depth=depth,
            params=decision.params,
            inputs=decision.inputs,
            command=decision.command,
        )
        if not await _insert(tx.session, firing):
            return None
        if decision.action == "fire":
            self._fire(tx, spec, firing, decision, origin=_origin(envelope, context))
        return firing

    def _fire(
        self,
        tx: Tx,
        spec: TriggerSpec,
        firing: FiringRow,
        decision: Decision,
        *,
        origin: dict[str, str] | None = None,
    ) -> None:
        """Request the run; its id comes from the firing, so a re-sent request is one run.
        `origin`: the subject of the event that fired it and the monitor that emitted that
        event, for the run's cause chain (a debounced window firing later knows neither).
        A notify target's firing keeps its message for delivery instead."""
        if spec.target.notify:
            self._notify(tx, spec, firing)
            return
        run_id = uuid.uuid5(uuid.NAMESPACE_URL, f"boxops:firing:{firing.id}").hex
        kind = "schedule" if firing.tick else "event" if firing.event_id else "manual"
        cause = Cause(
            kind=kind,
            trigger=spec.name,
            event_id=firing.event_id,
            tick=firing.tick,
            depth=firing.depth + 1,
            **(origin or {}),
        )
        target = spec.target
        tx.emit(
            RunRequested(
                run_id=run_id,
                command=firing.command or target.command,
                component=target.component,
                pipeline=target.pipeline,
                params=firing.params,
                inputs=firing.inputs,
                priority=target.priority,
                cause=cause,
            ),
            firing.depth + 1,
        )
        tx.emit(TriggerFired(trigger=spec.name, run_id=run_id, cause=cause), firing.depth)
        for old in decision.replaces:
            tx.emit(RunAbortRequested(run_id=old, reason=f"replaced by run {run_id}"))
        firing.status, firing.run_id, firing.run_state = "fired", run_id, "requested"
        tx.session.add(firing)
        self.watched.add(run_id)

    def _notify(self, tx: Tx, spec: TriggerSpec, firing: FiringRow) -> None:
        """Keep the message for the delivery loop: sent after commit, retried from the
        database, so a receiver that is down never holds up the events."""
        notify = spec.target.notify
        assert notify is not None  # noqa: S101
        tx.session.add(
            DeliveryRow(
                id=firing.id,
                trigger=spec.name,
                notify=notify.model_dump(mode="json"),
                body=message_body(firing.params).decode(),
                state="pending",
                due_at=now(),
            )
        )
        firing.status, firing.reason = "fired", f"notifying {notify.url or notify.url_env}"
        tx.session.add(firing)

    async def _track_run(self, tx: Tx, run_id: str, state: str) -> None:
        trigger = await store.end_run(tx.session, run_id, state)
        self.watched.discard(run_id)
        if trigger is not None:  # a redelivered end releases nothing more
            await self._release_queue(tx, trigger)

    async def _release_queue(self, tx: Tx, trigger: str) -> None:
        """The trigger's active run ended: start the oldest queued firing, if any."""
        spec = self.specs.get(trigger)
        queued = await store.oldest_queued(tx.session, trigger)
        if spec is None or queued is None or await store.active_runs(tx.session, trigger):
            return
        decision = Decision("fire", "", queued.params, queued.inputs, command=queued.command)
        self._fire(tx, spec, queued, decision)
        queued.reason = "started after the previous run ended"

    # --- time ---------------------------------------------------------------------------

    async def close_debounces(self, caught_up: datetime | None) -> None:
        """Windows that ended fire once, with the last event's bindings: only once every
        event stored before the window ended has been read, or a backlog would be cut."""
        if caught_up is None or not any(spec.debounce for spec in self.specs.values()):
            return
        async with self.writing() as tx:
            for firing in await store.due_debounces(tx.session, min(now(), caught_up)):
                spec = self.specs.get(firing.trigger)
                if spec is None:
                    firing.status, firing.reason = "skipped", "trigger removed or disabled"
                    tx.session.add(firing)
                    continue
                active = await store.active_runs(tx.session, spec.name)
                decision = admit(spec, active, firing.params, firing.inputs, firing.command)
                if decision.action == "fire":
                    self._fire(tx, spec, firing, decision)
                    # Still the record of a debounced decision, now with the run it started.
                    firing.status = "debounced"
                    firing.reason = f"fired when its {spec.debounce:g} s debounce window closed"
                else:
                    firing.status = "queued" if decision.action == "queue" else "skipped"
                    firing.reason = decision.reason
                    tx.session.add(firing)


async def _insert(session: AsyncSession, firing: FiringRow) -> bool:
    """Insert unless this (trigger, key) was decided before. Two replicas racing past the
    check both insert; the unique constraint fails one whole transaction, which is then
    retried (redelivery or the next tick) and finds the other's row. The row is written
    when the session flushes next, with whatever firing it still becomes: one INSERT."""
    exists = await session.exec(
        select(col(FiringRow.id))
        .where(FiringRow.trigger == firing.trigger)
        .where(FiringRow.key == firing.key)
    )
    if exists.first() is not None:
        return False
    session.add(firing)
    return True


def _attributes(spec: TriggerSpec, envelope: Envelope[Incoming] | None, key: str) -> dict[str, str]:
    """The CloudEvent attributes a notify target sends: the event's, or the trigger's own
    when a schedule or a person fired it."""
    if envelope is None:
        source, kind = f"boxops/trigger/{spec.name}", TYPE_PREFIX + TriggerFired.subject
        return {"id": key, "source": source, "type": kind, "time": now().isoformat()}
    return {
        "id": envelope.id,
        "source": envelope.source,
        "type": envelope.type,
        "time": envelope.time.isoformat(),
    }


def _origin(envelope: Envelope[Incoming] | None, context: dict[str, Any]) -> dict[str, str]:
    """The subject of the event that fired a trigger, and the monitor that emitted it when it
    is a threshold event (its data names the monitor)."""
    if envelope is None:
        return {}
    if not envelope.subject:
        return {}
    origin = {"subject": envelope.subject}
    monitor = context.get("event", {}).get("monitor")
    if origin["subject"] in THRESHOLD_SUBJECTS and isinstance(monitor, str):
        origin["monitor"] = monitor
    return origin
