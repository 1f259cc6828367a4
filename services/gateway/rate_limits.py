"""How often each hook may be called: a token bucket per hook. Pure: time comes in.

A bucket holds up to `burst` calls and refills at `per_s` calls a second; a call takes
one, or is refused with the seconds until one is back (the answer's Retry-After). Kept in
the gateway process: with N replicas, a hook may be called N times as often.
"""

import math
from dataclasses import dataclass, field


@dataclass
class Bucket:
    per_s: float
    burst: float
    tokens: float = math.nan  # full until first used
    at: float = 0.0

    def take(self, now: float) -> float:
        """0 if a call may go now (it takes a token), else the seconds to wait."""
        if math.isnan(self.tokens):
            self.tokens = self.burst
        else:
            self.tokens = min(self.burst, self.tokens + (now - self.at) * self.per_s)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.per_s


@dataclass
class RateLimits:
    """One bucket per hook name, all of the same rate."""

    per_minute: float
    burst: int
    buckets: dict[str, Bucket] = field(default_factory=dict)

    def wait(self, hook: str, now: float) -> float:
        """0 if `hook` may be called now, else the seconds until it may."""
        bucket = self.buckets.setdefault(hook, Bucket(self.per_minute / 60, self.burst))
        return bucket.take(now)
