"""Which cached inputs go when the executor's input cache is over its bound: the least
recently used first, never one that an attempt running now uses. Pure: the cache lists
what it holds and removes what this names."""

from collections.abc import Collection, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Cached:
    digest: str
    size: int
    used_at: float  # when an attempt last used it (seconds, any epoch)


def to_evict(cached: Iterable[Cached], *, in_use: Collection[str], max_bytes: int) -> list[str]:
    """The digests to remove, the least recently used first, until the rest fits in
    `max_bytes`; those in use stay even if the cache is still over its bound then."""
    entries = sorted(cached, key=lambda entry: entry.used_at)
    total = sum(entry.size for entry in entries)
    evicted = []
    for entry in entries:
        if total <= max_bytes:
            break
        if entry.digest not in in_use:
            evicted.append(entry.digest)
            total -= entry.size
    return evicted
