"""Request/reply commands: apply, list, show, enable, fire, history of triggers and monitors."""

import hashlib
import json
import os
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from services.trigger import store
from services.trigger.handlers import Triggers
from services.trigger.tables import FiringRow, TriggerRow
from services.trigger.watch import Monitors
from shared.bus import new_id, now, stream_of
from shared.events import CUSTOM_PREFIX
from shared.queries import ApplySpec, Enable, Fire, Named, Reply
from shared.specs import SpecError, load
from shared.trigger_specs import MonitorSpec, TriggerSpec


class Commands:
    def __init__(
        self, triggers: Triggers, monitors: Monitors, environ: Mapping[str, str] = os.environ
    ) -> None:
        self.triggers = triggers
        self.monitors = monitors
        self.environ = environ  # where a notify target's URL and secret are read

    async def apply(self, request: ApplySpec) -> Reply:
        """Validate and store a spec: a new version if it changed, nothing if it did not."""
        try:
            kinds: dict[str, type[BaseModel]] = {"trigger": TriggerSpec, "monitor": MonitorSpec}
            if request.kind:
                kinds = {request.kind: kinds[request.kind]}
            spec = load(request.text, kinds)
        except SpecError as err:
            return Reply(ok=False, status=422, error=str(err), result={"problems": err.problems})
        assert isinstance(spec, TriggerSpec | MonitorSpec)  # noqa: S101
        if isinstance(spec, TriggerSpec):
            problem = await self._listen(spec) or _unset(spec, self.environ)
            if problem:
                return Reply(ok=False, status=422, error=problem)
        change = await self._store(spec)
        await self.triggers.reload()
        await self.monitors.reload()
        return Reply(result={"name": spec.name, "kind": spec.kind} | change)

    async def _store(self, spec: TriggerSpec | MonitorSpec) -> dict[str, Any]:
        document = spec.model_dump(mode="json", by_alias=True)
        async with self.triggers.writing() as tx:
            row = await tx.session.get(TriggerRow, spec.name)
            if row is not None and row.kind != spec.kind:
                raise ValueError(f"{spec.name!r} is already a {row.kind}")
            if row is not None and _digest(row.spec) == _digest(document):
                return {"version": row.version, "change": "unchanged"}
            if row is None:
                row = TriggerRow(
                    name=spec.name,
                    kind=spec.kind,
                    spec=document,
                    created_at=now(),
                    updated_at=now(),
                    enabled=spec.enabled,
                )
            else:
                row.spec, row.version, row.updated_at = document, row.version + 1, now()
                row.enabled = spec.enabled
            tx.session.add(row)
            version = row.version
        return {"version": version, "change": "created" if version == 1 else "updated"}

    async def _listen(self, spec: TriggerSpec) -> str | None:
        """Every subject the trigger names is one a stream keeps: boxops's own, or another
        system's under ext. (which that system may publish, over HTTP or NATS)."""
        for condition in spec.conditions().values():
            subject = condition.subject
            try:
                stream_of(subject.replace("*", "x").replace(">", "x"))
            except LookupError:
                return (
                    f"cannot listen on {subject!r}: it is no boxops subject, and other "
                    f"systems' subjects start with {CUSTOM_PREFIX} (e.g. {CUSTOM_PREFIX}{subject})"
                )
        return None

    async def listing(self, query: Named) -> Reply:
        async with self.triggers.sessions() as session:
            found = await store.rows(session, query.kind)
        return Reply(result=[_summary(row) for row in found])

    async def show(self, query: Named) -> Reply:
        async with self.triggers.sessions() as session:
            row = await store.get(session, query.name, query.kind)
            if row is None:
                return _missing(query)
            recent = await store.history(session, row.name, 5) if row.kind == "trigger" else []
            shown = await _with_deliveries(session, recent)
            if row.kind == "monitor":
                state = await store.monitor_state(session, row.name)
            else:
                schedule = await store.last_tick(session, row.name)
                state = {"last_tick": schedule.last_tick.isoformat()} if schedule else None
        return Reply(result=_summary(row) | {"spec": row.spec, "recent": shown, "state": state})

    async def enable(self, query: Enable) -> Reply:
        async with self.triggers.writing() as tx:
            row = await store.get(tx.session, query.name, query.kind)
            if row is None:
                return _missing(query)
            row.enabled, row.updated_at = query.enabled, now()
            tx.session.add(row)
        await self.triggers.reload()
        await self.monitors.reload()
        return Reply(result=_summary(row))

    async def fire(self, query: Fire) -> Reply:
        """Fire by hand: the same policies, with params given now taking precedence."""
        spec = self.triggers.specs.get(query.name)
        if spec is None:
            return Reply(ok=False, status=404, error=f"no enabled trigger named {query.name!r}")
        spec = spec.model_copy(deep=True)
        spec.target.params = {**spec.target.params, **query.params}
        spec.debounce = 0.0
        async with self.triggers.writing() as tx:
            context = {"trigger": {"name": spec.name}, "fire": {"params": query.params}}
            firing = await self.triggers.act(tx, spec, context, key=f"manual:{new_id()}")
        assert firing is not None  # noqa: S101
        return Reply(result=_plain(firing))

    async def history(self, query: Named) -> Reply:
        async with self.triggers.sessions() as session:
            if await store.get(session, query.name, query.kind) is None:
                return _missing(query)
            if query.kind == "monitor":
                events = await store.monitor_history(session, query.name, query.limit)
                return Reply(result=[_plain(e) for e in events])
            firings = await store.history(session, query.name, query.limit)
            return Reply(result=await _with_deliveries(session, firings))

    async def points(self, query: Named) -> Reply:
        """The newest points a monitor saw, oldest first: its chart's data."""
        async with self.triggers.sessions() as session:
            if await store.get(session, query.name, "monitor") is None:
                return _missing(query)
            found = await store.monitor_points(session, query.name, query.limit)
        return Reply(
            result=[{"at": p.at.isoformat(), "value": p.value, "run_id": p.run_id} for p in found]
        )


def _unset(spec: TriggerSpec, environ: Mapping[str, str]) -> str | None:
    """A notify target's variable this service does not have: every attempt would fail."""
    notify = spec.target.notify
    for field in ("url_env", "secret_env"):
        name = getattr(notify, field, None)
        if name and not environ.get(name):
            return f"target.notify.{field}: {name} is not set in the trigger service"
    return None


async def _with_deliveries(session: AsyncSession, firings: list[FiringRow]) -> list[dict[str, Any]]:
    """Firings as history shows them: a notification's with its state and every attempt."""
    ids = [firing.id for firing in firings]
    sent, tried = await store.deliveries(session, ids), await store.attempts(session, ids)
    shown = []
    for firing in firings:
        row = _plain(firing)
        if firing.id in sent:
            attempts = [_plain(a) for a in tried.get(firing.id, [])]
            row["notify"] = {"state": sent[firing.id].state, "attempts": attempts}
        shown.append(row)
    return shown


def _digest(document: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def _summary(row: TriggerRow) -> dict[str, Any]:
    spec = row.spec
    kind = (
        "monitor"
        if row.kind == "monitor"
        else (
            "schedule"
            if spec.get("schedule")
            else "event"
            if spec.get("event")
            else "all_of"
            if spec.get("all_of")
            else "manual"
        )
    )
    return {
        "name": row.name,
        "kind": row.kind,
        "type": kind,
        "enabled": row.enabled,
        "version": row.version,
        "updated_at": row.updated_at.isoformat(),
    }


def _plain(row: BaseModel) -> dict[str, Any]:
    return row.model_dump(mode="json")


def _missing(query: Named) -> Reply:
    return Reply(ok=False, status=404, error=f"no {query.kind} named {query.name!r}")
