"""The scheduler's lease, as decisions: whether a replica still leads, when it confirms.
Pure logic: times are the replica's monotonic clock in seconds, given as arguments.

A leader holds its lease from the moment it sent its last confirmation that was answered,
for `valid_s`. It confirms every `confirm_every_s`; a confirmation that fails, or is not
answered while the lease is still held, ends its leadership at once. The database lets a
follower take the lease only once it has noticed the leader gone, which takes longer than
`valid_s` for a leader that cannot reach it (see `DEAD_PEER_S`): the old leader has
stopped by then.
"""

from dataclasses import dataclass
from enum import Enum

# How long PostgreSQL takes at most to notice a leader's host gone silent: TCP keepalives
# after 1 s idle, every 1 s, 2 unanswered (and unacknowledged sends given up after 3 s).
KEEPALIVE_IDLE_S = 1
KEEPALIVE_INTERVAL_S = 1
KEEPALIVE_COUNT = 2
USER_TIMEOUT_MS = 3000
DEAD_PEER_S = KEEPALIVE_IDLE_S + KEEPALIVE_INTERVAL_S * KEEPALIVE_COUNT


@dataclass(frozen=True)
class LeaseTimes:
    confirm_every_s: float = 0.5  # a leader confirms, a follower tries to take it
    valid_s: float = 2.0  # a confirmation holds the lease this long

    def __post_init__(self) -> None:
        if not 0 < self.confirm_every_s < self.valid_s < DEAD_PEER_S:
            raise ValueError(
                "lease times must satisfy 0 < confirm_every_s < valid_s < "
                f"{DEAD_PEER_S} s (when the database lets the lease go)"
            )


class Step(Enum):
    WAIT = "wait"  # nothing to do until the next round
    TRY = "try"  # following: try to take the lease
    CONFIRM = "confirm"  # leading: confirm the lease is still ours
    STEP_DOWN = "step down"  # leading, but the lease may be gone: stop at once


@dataclass(frozen=True)
class Hold:
    """What a replica knows of its lease: when its last answered confirmation was sent
    (None: it follows), and when it last acted."""

    confirmed_at: float | None = None
    acted_at: float | None = None

    @property
    def leading(self) -> bool:
        return self.confirmed_at is not None


def held(hold: Hold, *, at: float, times: LeaseTimes) -> bool:
    """The lease is ours at `at`: confirmed recently enough."""
    return hold.confirmed_at is not None and at - hold.confirmed_at < times.valid_s


def next_step(hold: Hold, *, at: float, times: LeaseTimes) -> Step:
    """What a replica does at `at`."""
    if hold.leading and not held(hold, at=at, times=times):
        return Step.STEP_DOWN
    if hold.acted_at is not None and at - hold.acted_at < times.confirm_every_s:
        return Step.WAIT
    return Step.CONFIRM if hold.leading else Step.TRY


def answer_within(hold: Hold, *, at: float, times: LeaseTimes) -> float:
    """How long a leader may wait for its confirmation: no longer than the lease holds
    (a follower's attempt, as long as a confirmation round)."""
    if hold.confirmed_at is None:
        return times.valid_s - times.confirm_every_s
    return max(0.0, hold.confirmed_at + times.valid_s - at)


def after(hold: Hold, *, sent_at: float, answered: bool) -> Hold:
    """The hold after an attempt or confirmation sent at `sent_at`: led from then on if it
    was answered yes; following otherwise (a leader that is not confirmed steps down)."""
    return Hold(confirmed_at=sent_at if answered else None, acted_at=sent_at)
