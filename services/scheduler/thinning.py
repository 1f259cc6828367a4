"""Thinning a metric series for a chart, keeping its shape: the axis cut into equal slices,
of each slice its lowest and its highest point, and the series' first and last points.
Pure: the database finds each slice's points (series.py); this says which slice a point
falls in, and which of the points found are kept, in what order."""

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar


@dataclass(frozen=True)
class Slices:
    """`count` equal slices of the axis from `lo` to `hi` (integers: steps, or times in ms)."""

    lo: int
    hi: int
    count: int

    @property
    def width(self) -> int:
        """The axis' length in whole units: `hi` counts too (series.py divides by it)."""
        return self.hi - self.lo + 1

    def of(self, x: int) -> int:
        """The slice `x` falls in: 0 … count - 1."""
        return (x - self.lo) * self.count // self.width


def slices(lo: int, hi: int, points: int) -> Slices:
    """Slices whose lowest and highest points, with the first and last, are at most `points`."""
    return Slices(lo, hi, max(1, (points - 2) // 2))


class Identified(Protocol):
    @property
    def id(self) -> str: ...


P = TypeVar("P", bound=Identified)


def kept(points: Iterable[P], order: Callable[[P], Hashable], limit: int) -> list[P]:
    """Each point once (a slice's lowest may also be its highest, or the first), in the
    axis' order; at most `limit` of them, the first and the last always among them."""
    unique = sorted({p.id: p for p in points}.values(), key=order)  # type: ignore[arg-type]
    if len(unique) <= limit:
        return unique
    return [unique[0], *unique[1 : limit - 1], unique[-1]]
