"""Monitors over metric streams: state per monitor, one threshold event per crossing."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from services.trigger import store
from services.trigger.handlers import Triggers, Tx
from services.trigger.monitors import MonitorState, Point, Verdict, evaluate, observe
from services.trigger.tables import MonitorEventRow, MonitorStateRow
from shared.bus import new_id, now
from shared.envelope import Envelope
from shared.events import (
    MetricAboveThreshold,
    MetricBelowThreshold,
    MetricLogged,
    MetricPoint,
    MetricsLogged,
)
from shared.trigger_specs import MonitorSpec

KEPT_POINTS = 10_000  # of each monitor, for its chart
TRIM_EVERY = 1_000  # new points of a monitor between two trims of its oldest


class Monitors:
    def __init__(self, triggers: Triggers) -> None:
        self.triggers = triggers
        self.specs: dict[str, MonitorSpec] = {}
        # Points kept since a monitor's oldest were last dropped: dropping them is a scan
        # of its index, so it is done once every TRIM_EVERY points, not once a batch (a
        # monitor holds up to KEPT_POINTS + TRIM_EVERY; its chart reads the newest).
        self.untrimmed: dict[str, int] = {}

    async def reload(self) -> None:
        async with self.triggers.sessions() as session:
            self.specs = {spec.name: spec for spec in await store.enabled_monitors(session)}

    async def on_metrics(self, envelopes: Sequence[Envelope[MetricLogged | MetricsLogged]]) -> None:
        """Feed each point, single or in a batch, to the monitors that watch it."""
        if not self.specs:
            return
        async with self.triggers.writing() as tx:
            states: dict[str, MonitorState] = {}
            seen: list[dict[str, Any]] = []  # each point each monitor saw, for its chart
            for envelope in envelopes:
                event = envelope.data
                labels = {**event.labels, **({"run_id": event.run_id} if event.run_id else {})}
                watching = [
                    spec
                    for spec in self.specs.values()
                    if all(labels.get(k) == v for k, v in spec.where.items())
                ]
                for point in _points(event) if watching else ():
                    for spec in watching:
                        if spec.metric != point.name:
                            continue
                        state = states.get(spec.name) or await _load(tx, spec.name)
                        at = point.at or envelope.time
                        verdict = observe(spec, state, Point(at, point.value))
                        states[spec.name] = verdict.state
                        _record(tx, spec, verdict, at, event.run_id)
                        seen.append(_point(spec, at, point.value, event.run_id))
            await store.keep_points(tx.session, seen)
            for name, state in states.items():
                await tx.session.merge(MonitorStateRow(monitor=name, state=_dump(state)))
            for kept in seen:
                self.untrimmed[kept["monitor"]] = self.untrimmed.get(kept["monitor"], 0) + 1
            for name, count in list(self.untrimmed.items()):
                if count >= TRIM_EVERY:
                    await store.forget_old_points(tx.session, name, KEPT_POINTS)
                    del self.untrimmed[name]

    async def check_durations(self) -> None:
        """A `for` duration can run out between points: check breached monitors on the clock."""
        if not any(spec.for_ for spec in self.specs.values()):
            return
        async with self.triggers.writing() as tx:
            for spec in self.specs.values():
                state = await _load(tx, spec.name)
                if state.breached_since is None or state.fired:
                    continue
                verdict = evaluate(spec, state, now())
                _record(tx, spec, verdict, now(), None)
                await tx.session.merge(
                    MonitorStateRow(monitor=spec.name, state=_dump(verdict.state))
                )


def _points(event: MetricLogged | MetricsLogged) -> list[MetricPoint]:
    if isinstance(event, MetricsLogged):
        return event.points
    return [MetricPoint(name=event.name, value=event.value, step=event.step, at=event.at)]


def _record(tx: Tx, spec: MonitorSpec, verdict: Verdict, at: datetime, run_id: str | None) -> None:
    if verdict.crossing:
        crossing = verdict.crossing
        model = MetricBelowThreshold if crossing.direction == "below" else MetricAboveThreshold
        tx.emit(
            model(
                monitor=spec.name,
                metric=spec.metric,
                value=crossing.value,
                threshold=crossing.threshold,
                run_id=run_id,
            )
        )
        kind, value, threshold = crossing.direction, crossing.value, crossing.threshold
    elif verdict.recovered:
        kind, value = "recovered", verdict.state.points[-1].value
        threshold = spec.below if spec.below is not None else spec.above or 0.0
    else:
        return
    tx.session.add(
        MonitorEventRow(
            id=new_id(),
            monitor=spec.name,
            at=at,
            kind=kind,
            value=value,
            threshold=threshold,
            run_id=run_id,
        )
    )


def _point(spec: MonitorSpec, at: datetime, value: float, run_id: str | None) -> dict[str, Any]:
    return {"id": new_id(), "monitor": spec.name, "at": at, "value": value, "run_id": run_id}


async def _load(tx: Tx, name: str) -> MonitorState:
    raw = await store.monitor_state(tx.session, name)
    if not raw:
        return MonitorState()
    return MonitorState(
        points=tuple(Point(datetime.fromisoformat(at), value) for at, value in raw["points"]),
        breached_since=datetime.fromisoformat(raw["breached_since"])
        if raw.get("breached_since")
        else None,
        fired=raw["fired"],
    )


def _dump(state: MonitorState) -> dict[str, Any]:
    return {
        "points": [[p.at.isoformat(), p.value] for p in state.points],
        "breached_since": state.breached_since.isoformat() if state.breached_since else None,
        "fired": state.fired,
    }
