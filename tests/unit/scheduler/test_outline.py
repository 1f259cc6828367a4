"""A series' outline: its buckets folded a batch at a time (in any order, widened as the series
grows) are those of all its points at once, and a chart thinned from them is the chart
thinned from the points."""

import math
import random

import pytest

from services.scheduler.outline import (
    SPAN,
    Axis,
    Buckets,
    Extremes,
    Outline,
    Point,
    Ranked,
    coarsen,
    covers,
    extend,
    fold,
    order,
    shift_for,
    thin,
)
from services.scheduler.thinning import kept, slices

T0 = 1_800_000_000_000_000  # µs since 1970


def series(count: int, *, step_every: int = 1) -> list[Ranked]:
    """A noisy falling curve, a point every 10 ms; some points without a step if asked."""
    return [
        (
            math.exp(-i / 3000) + 0.1 * math.sin(i / 7) + (i % 13) / 100,
            T0 + i * 10_000,
            f"p{i}",
            i if i % step_every == 0 else None,
        )
        for i in range(count)
    ]


def written(axis: Axis, batches: list[list[Ranked]]) -> tuple[Outline, Buckets]:
    """What outlined.py keeps a batch at a time: the outline extended, the stored buckets
    widened when it widened, the batch's buckets folded into them."""
    outline: Outline | None = None
    buckets: Buckets = {}
    for batch in batches:
        new = extend(axis, outline, batch)
        if outline is not None and new.shift > outline.shift:
            buckets = coarsen(buckets, new.shift - outline.shift)
        for bucket, (low, high) in fold(axis, batch, new.shift).items():
            seen = buckets.get(bucket, Extremes(low, high))
            buckets[bucket] = Extremes(min(seen.low, low), max(seen.high, high))
        outline = new
    assert outline is not None
    return outline, buckets


def by_bucket(axis: Axis, points: list[Ranked], shift: int) -> Buckets:
    """Each bucket's lowest and highest point, found the slow way."""
    found: Buckets = {}
    for p in map(Point._make, points):
        b = p.x(axis) >> shift
        members = [Point._make(q) for q in points if Point._make(q).x(axis) >> shift == b]
        found[b] = Extremes(min(members, key=lambda q: (q.value, q.us, q.id)), max(members))
    return found


@pytest.mark.parametrize("axis", ["step", "time"])
def test_batches_in_any_order_fold_into_the_buckets_of_all_the_points(axis: Axis) -> None:
    points = series(30_000)
    batches = [points[i : i + 2_500] for i in range(0, len(points), 2_500)]
    random.Random(7).shuffle(batches)

    outline, buckets = written(axis, batches)

    ordered = sorted(map(Point._make, points), key=lambda p: order(axis, p))
    assert (outline.first, outline.last) == (ordered[0], ordered[-1])
    assert outline.count == len(points)
    assert outline.shift == shift_for(ordered[0].x(axis), ordered[-1].x(axis))
    assert buckets == fold(axis, points, outline.shift)
    assert SPAN // 4 <= len(buckets) <= SPAN


def test_a_bucket_keeps_its_lowest_and_highest_point_by_value_then_time_then_id() -> None:
    points: list[Ranked] = [(1.0, 5, "b", 0), (1.0, 5, "a", 1), (3.0, 1, "c", 2), (3.0, 2, "d", 3)]

    assert fold("step", points, 2) == by_bucket("step", points, 2)
    assert fold("step", points, 2)[0] == Extremes(Point(1.0, 5, "a", 1), Point(3.0, 2, "d", 3))


def test_widening_keeps_each_wider_buckets_extremes() -> None:
    points = series(5_000)
    assert coarsen(fold("step", points, 1), 3) == fold("step", points, 4)
    assert fold("time", points[:600], 14) == by_bucket("time", points[:600], 14)


def test_the_buckets_are_the_fewest_that_span_the_series_in_at_most_SPAN() -> None:
    assert shift_for(0, SPAN - 1) == 0
    assert shift_for(0, SPAN) == 2  # widened four times at once
    assert shift_for(-5, 3 * SPAN) == 2 and shift_for(0, 5, 6) == 6  # never narrower


def test_a_chart_from_buckets_inside_its_slices_is_the_chart_from_the_points() -> None:
    points = series(8_192)  # buckets of 4 steps; 128 slices of 64 steps
    outline, buckets = written("step", [points[4_000:], points[:4_000]])
    limit = 2 * 128 + 2
    assert outline.shift == 2 and slices(0, 8_191, limit).count == 128

    chart = thin("step", outline, buckets.values(), limit)

    cut = slices(0, 8_191, limit)
    lows: dict[int, Point] = {}
    highs: dict[int, Point] = {}
    for p in map(Point._make, points):
        part = cut.of(p.x("step"))
        lows[part] = min(lows.get(part, p), p)
        highs[part] = max(highs.get(part, p), p)
    raw = [Point._make(points[0]), Point._make(points[-1]), *lows.values(), *highs.values()]
    assert chart == kept(raw, lambda p: order("step", p), limit)


@pytest.mark.parametrize("axis", ["step", "time"])
def test_a_chart_keeps_the_ends_and_the_extremes_within_its_limit(axis: Axis) -> None:
    points = series(50_000, step_every=3)
    on_axis = [p for p in points if axis == "time" or p[3] is not None]
    outline, buckets = written(
        axis, [on_axis[i : i + 5_000] for i in range(0, len(on_axis), 5_000)]
    )

    chart = thin(axis, outline, buckets.values(), 1000)

    assert covers(outline, axis, 1000) and 500 <= len(chart) <= 1000
    assert chart[0] == outline.first and chart[-1] == outline.last
    assert chart == sorted(chart, key=lambda p: order(axis, p))
    assert min(on_axis) in chart and max(on_axis) in chart
    assert all(p in on_axis for p in chart)


def test_buckets_too_coarse_for_the_points_asked_are_not_used() -> None:
    outline, _ = written("step", [series(10_000)])  # 2,500 buckets
    assert covers(outline, "step", 1000) and covers(outline, "step", 2000)
    assert not covers(outline, "step", 3000)  # 1,499 slices: fewer than two buckets each


def test_a_point_knows_its_time() -> None:
    assert Point(0.5, T0 + 250, "p", 3).at.isoformat() == "2027-01-15T08:00:00.000250+00:00"
