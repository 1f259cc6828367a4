"""A monitor's rule over a metric stream: window, threshold, `for`, hysteresis. Pure.

It fires once per crossing: after firing it stays latched until the value recovers past
the threshold by the hysteresis, so a value that stays low starts nothing more.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from shared.trigger_specs import MonitorSpec


@dataclass(frozen=True)
class Point:
    at: datetime
    value: float


@dataclass(frozen=True)
class MonitorState:
    points: tuple[Point, ...] = ()
    breached_since: datetime | None = None
    fired: bool = False


@dataclass(frozen=True)
class Crossing:
    value: float
    threshold: float
    direction: str  # below | above


@dataclass(frozen=True)
class Verdict:
    state: MonitorState
    crossing: Crossing | None = None
    recovered: bool = False
    notes: list[str] = field(default_factory=list)


def observe(spec: MonitorSpec, state: MonitorState, point: Point) -> Verdict:
    points = _window(spec, (*state.points, point), point.at)
    return evaluate(spec, replace(state, points=points), point.at)


def evaluate(spec: MonitorSpec, state: MonitorState, now: datetime) -> Verdict:
    if not state.points:
        return Verdict(state)
    value = _aggregate(spec, state.points)
    threshold = spec.below if spec.below is not None else spec.above
    assert threshold is not None  # noqa: S101
    breached = value < threshold if spec.below is not None else value > threshold
    if breached:
        since = state.breached_since or now
        held = now - since >= timedelta(seconds=spec.for_)
        if held and not state.fired:
            direction = "below" if spec.below is not None else "above"
            crossed = replace(state, breached_since=since, fired=True)
            return Verdict(crossed, Crossing(value, threshold, direction))
        return Verdict(replace(state, breached_since=since))
    recovered = (
        value >= threshold + spec.hysteresis
        if spec.below is not None
        else value <= threshold - spec.hysteresis
    )
    if state.fired and not recovered:
        return Verdict(replace(state, breached_since=None))  # inside the band: stay latched
    return Verdict(replace(state, breached_since=None, fired=False), recovered=state.fired)


def _window(spec: MonitorSpec, points: tuple[Point, ...], now: datetime) -> tuple[Point, ...]:
    if spec.window is not None:
        points = tuple(p for p in points if now - p.at <= timedelta(seconds=spec.window))
    keep = spec.window_points or (1 if spec.aggregate == "last" and spec.window is None else 1000)
    return points[-keep:]


def _aggregate(spec: MonitorSpec, points: tuple[Point, ...]) -> float:
    if spec.aggregate == "last":
        return points[-1].value
    return sum(p.value for p in points) / len(points)
