"""`boxops triggers test`: replay stored events against a trigger that is not applied,
and say what it would have started and why."""

from datetime import datetime, timedelta
from typing import Any

from services.trigger.handlers import Incoming
from services.trigger.matcher import Matcher
from services.trigger.policy import decide
from services.trigger.schedules import ticks_between
from shared.bus import CUSTOM, EVENTS, Bus, new_id, now
from shared.envelope import Envelope, EnvelopeError, parse
from shared.notify_specs import Notify
from shared.queries import DryRun, Reply
from shared.specs import SpecError, load
from shared.trigger_specs import TriggerSpec

LIMIT = 10_000


async def dry_run(bus: Bus, request: DryRun) -> Reply:
    try:
        spec = load(request.text, {"trigger": TriggerSpec})
    except SpecError as err:
        return Reply(ok=False, status=422, error=str(err), result={"problems": err.problems})
    assert isinstance(spec, TriggerSpec)  # noqa: S101
    since = now() - timedelta(seconds=request.since_s)
    if spec.schedule:
        ticks = ticks_between(spec.schedule, since, now())
        outcomes = [
            _outcome(spec, {"trigger": {"name": spec.name}, "tick": t.isoformat()}, None, t, 0)
            for t in ticks
        ]
        return Reply(result={"trigger": spec.name, "since": since.isoformat(), "would": outcomes})
    events = await _stored(bus, spec, since)
    matcher = Matcher([spec.model_copy(update={"debounce": 0.0})])
    outcomes = []
    for envelope in events:
        data = envelope.data.model_dump()
        if matcher.match(envelope.subject, data):
            context = {"trigger": {"name": spec.name}, "event": data}
            outcomes.append(
                _outcome(spec, context, envelope.id, envelope.time, envelope.causation_depth)
            )
    return Reply(
        result={
            "trigger": spec.name,
            "since": since.isoformat(),
            "events_read": len(events),
            "would": _debounced(spec, outcomes),
        }
    )


def _outcome(
    spec: TriggerSpec, context: dict[str, Any], event_id: str | None, at: datetime, depth: int
) -> dict[str, Any]:
    decision = decide(spec, context, depth=depth, active_runs=[], debounced=True)
    notify = spec.target.notify
    fires = "notify" if notify else "start run"
    return {
        "at": at.isoformat(),
        "event_id": event_id,
        "action": fires if decision.action == "fire" else decision.action,
        "reason": decision.reason,
        "target": spec.target.pipeline or spec.target.component or _where(notify),
        "command": decision.command,
        "params": decision.params,
        "inputs": decision.inputs,
    }


def _where(notify: Notify | None) -> str | None:
    return (str(notify.url) if notify.url else notify.url_env) if notify else None


def _debounced(spec: TriggerSpec, outcomes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A burst within the debounce window is one run with the last event's bindings."""
    if not spec.debounce:
        return outcomes
    merged: list[dict[str, Any]] = []
    window_start: datetime | None = None
    for outcome in outcomes:
        at = datetime.fromisoformat(outcome["at"])
        if merged and window_start and at - window_start <= timedelta(seconds=spec.debounce):
            outcome = outcome | {"merged": merged[-1].get("merged", 1) + 1}
            merged[-1] = outcome
            continue
        window_start = at
        merged.append(outcome | {"merged": 1})
    return merged


async def _stored(bus: Bus, spec: TriggerSpec, since: datetime) -> list[Envelope[Incoming]]:
    """Events on the trigger's subjects since `since`, from the domain and custom streams."""
    found: list[Envelope[Incoming]] = []
    for condition in spec.conditions().values():
        for stream in (EVENTS, CUSTOM):  # the subject lives in one of them
            found += await bus.nats.replay(
                stream.name, condition.subject, since, _read, LIMIT - len(found)
            )
    return sorted(found, key=lambda e: e.time)


def _read(message: Any) -> Envelope[Incoming] | None:
    try:
        return parse(
            Incoming,
            message.headers,
            message.data,
            new_id=new_id(),
            now=now(),
            subject=message.subject,
        )
    except EnvelopeError:
        return None  # unreadable events are in the DLQ already; they would fire nothing
