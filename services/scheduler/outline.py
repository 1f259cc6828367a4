"""A metric series' outline for its chart, kept as its points are written so that a chart
reads a few thousand rows, not 200,000: the axis cut into buckets of 2**shift units (at
most SPAN of them from the first point to the last), of each bucket its lowest and highest
point, and of the series its first and last points and count. Pure: outlined.py stores it.

A chart's slices (thinning.py) are then made of the buckets' extremes: a slice's lowest
point is the lowest of the buckets' lowest points that fall in it. The points are tuples
that compare by value, then time, then id: the lower of two is simply min() of them, which
keeps folding a batch of thousands of points cheap."""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any, Literal, NamedTuple

from services.scheduler.thinning import kept, slices

Axis = Literal["step", "time"]
SPAN = 4096  # buckets at most between the first point and the last
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)


class Point(NamedTuple):
    """A stored point, its time in µs since 1970 (an integer: nothing to parse at read); the
    fields in the order points rank by (a plain tuple of them ranks the same)."""

    value: float
    us: int
    id: str
    step: int | None

    @property
    def at(self) -> datetime:
        return EPOCH + self.us * US

    def x(self, axis: Axis) -> int:
        """Where it is on the axis: its step, or its time in µs."""
        return self.step if axis == "step" and self.step is not None else self.us


class Extremes(NamedTuple):
    """A bucket's lowest and highest points."""

    low: Point
    high: Point


@dataclass(frozen=True, slots=True)
class Outline:
    """A series along one axis: its buckets' width (2**shift), count, first and last points."""

    shift: int
    count: int
    first: Point
    last: Point


Buckets = dict[int, Extremes]
Ranked = tuple[float, int, str, int | None]  # a Point's fields, as a plain tuple
# A point's x, and its place on the axis (by x, then time, then id), by its fields' positions.
X: dict[Axis, Callable[[Ranked], int]] = {"step": itemgetter(3), "time": itemgetter(1)}
ORDER: dict[Axis, Callable[[Any], Any]] = {
    "step": itemgetter(3, 1, 2),
    "time": itemgetter(1, 2),
}


def microseconds(at: datetime) -> int:
    """A time as µs since 1970, exactly (a float's seconds would round)."""
    return (at - EPOCH) // US


def order(axis: Axis, p: Point) -> tuple[int, ...]:
    """The axis' order: by x, then time, then id (equal steps are ordered by time)."""
    return ORDER[axis](p)


def shift_for(lo: int, hi: int, shift: int = 0) -> int:
    """The narrowest buckets, no narrower than 2**shift, that span lo … hi in at most SPAN;
    widened by a factor of 4 at a time (from 1): a growing series' buckets are rewritten
    half as often, and still number SPAN / 4 or more."""
    while (hi >> shift) - (lo >> shift) >= SPAN:
        shift += 2
    return shift


def extend(axis: Axis, outline: Outline | None, points: list[Ranked]) -> Outline:
    """The outline with new points (never seen before: each counts once); the points of the
    series on this axis (for steps, those with one)."""
    known: list[Ranked] = [outline.first, outline.last] if outline else []
    candidates, ordered = [*known, *points], ORDER[axis]
    first, last = (
        Point._make(min(candidates, key=ordered)),
        Point._make(max(candidates, key=ordered)),
    )
    shift = shift_for(first.x(axis), last.x(axis), outline.shift if outline else 0)
    return Outline(shift, (outline.count if outline else 0) + len(points), first, last)


def fold(axis: Axis, points: Iterable[Ranked], shift: int) -> Buckets:
    """Points into the extremes of their buckets of 2**shift units."""
    x = X[axis]
    groups: defaultdict[int, list[Ranked]] = defaultdict(list)
    for p in points:
        groups[x(p) >> shift].append(p)
    return {b: Extremes(Point._make(min(ps)), Point._make(max(ps))) for b, ps in groups.items()}


def coarsen(buckets: Buckets, by: int) -> Buckets:
    """Buckets 2**by times wider: each the extremes of those it is made of."""
    wider: Buckets = {}
    for bucket, (low, high) in buckets.items():
        seen = wider.get(bucket >> by, Extremes(low, high))
        wider[bucket >> by] = Extremes(min(seen.low, low), max(seen.high, high))
    return wider


def covers(outline: Outline, axis: Axis, limit: int) -> bool:
    """Whether the buckets are fine enough for `limit` points: at least two a slice."""
    spanned = (outline.last.x(axis) >> outline.shift) - (outline.first.x(axis) >> outline.shift)
    return spanned + 1 >= 2 * slices(0, 1, limit).count


def thin(axis: Axis, outline: Outline, extremes: Iterable[Extremes], limit: int) -> list[Point]:
    """At most `limit` points: the first and last, and of each slice of the axis the lowest
    and the highest of the buckets' extremes that fall in it."""
    cut = slices(outline.first.x(axis), outline.last.x(axis), limit)
    lows: dict[int, Point] = {}
    highs: dict[int, Point] = {}
    for low, high in extremes:
        at_low, at_high = cut.of(low.x(axis)), cut.of(high.x(axis))
        lows[at_low] = min(lows.get(at_low, low), low)
        highs[at_high] = max(highs.get(at_high, high), high)
    found = [outline.first, outline.last, *lows.values(), *highs.values()]
    return kept(found, lambda p: order(axis, p), limit)
