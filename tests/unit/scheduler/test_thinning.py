"""Thinning a series for a chart: which slice a point falls in, and which points are kept."""

from dataclasses import dataclass

from services.scheduler.thinning import Slices, kept, slices


@dataclass(frozen=True)
class Point:
    id: str
    x: int
    value: float


def test_the_slices_cover_the_axis_from_its_first_to_its_last_point() -> None:
    cut = slices(10, 209, 1000)  # 200 steps in 499 slices: some slices are empty
    assert cut == Slices(10, 209, 499)
    parts = [cut.of(x) for x in range(10, 210)]
    assert parts[0] == 0 and parts[-1] == 496 < cut.count
    assert parts == sorted(parts)


def test_slices_are_equal_parts_of_the_axis() -> None:
    cut = slices(0, 99, 12)  # 5 slices of 20 steps, and the first and last points
    assert [cut.of(x) for x in (0, 19, 20, 39, 80, 99)] == [0, 0, 1, 1, 4, 4]


def test_the_fewest_points_still_make_one_slice() -> None:
    assert slices(0, 5, 2).count == 1 and slices(0, 5, 3).count == 1
    assert slices(7, 7, 1000).of(7) == 0  # a series of one step


def test_kept_points_are_each_once_in_the_axis_order() -> None:
    first, low, high, last = (
        Point("a", 0, 1),
        Point("b", 5, -3),
        Point("c", 9, 8),
        Point("d", 12, 2),
    )

    points = kept([high, last, low, first, low, first], lambda p: p.x, 10)

    assert points == [first, low, high, last]


def test_at_most_the_limit_with_the_first_and_last_always_kept() -> None:
    points = [Point(str(x), x, x % 3) for x in range(10)]
    assert kept(points, lambda p: p.x, 3) == [points[0], points[1], points[9]]
    assert kept(points, lambda p: p.x, 2) == [points[0], points[9]]
