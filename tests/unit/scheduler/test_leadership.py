"""The leadership loop against a lease that answers as told, on a clock the test moves."""

import asyncio
from dataclasses import dataclass, field

from services.scheduler.leadership import Leadership
from services.scheduler.lease import LeaseTimes

TIMES = LeaseTimes(confirm_every_s=0.5, valid_s=2.0)


@dataclass
class ToldLease:
    """A lease that is free or taken, and confirms while `ours`; records what was asked."""

    free: bool = True
    ours: bool = False
    asked: list[str] = field(default_factory=list)

    async def take(self, *, within: float) -> bool:
        self.asked.append("take")
        self.ours = self.free
        return self.ours

    async def confirm(self, *, within: float) -> bool:
        self.asked.append("confirm")
        return self.ours

    async def release(self) -> None:
        self.asked.append("release")
        self.ours = False


@dataclass
class Work:
    done: list[str] = field(default_factory=list)

    async def lead(self) -> None:
        self.done.append("lead")

    async def follow(self) -> None:
        self.done.append("follow")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def replica(lease: ToldLease) -> tuple[Leadership, Work, Clock]:
    work, clock = Work(), Clock()
    return Leadership(lease, work.lead, work.follow, TIMES, clock), work, clock


async def settled(leadership: Leadership) -> None:
    if leadership.leading:
        await leadership.leading


async def test_a_replica_that_takes_the_lease_leads() -> None:
    leadership, work, _ = replica(ToldLease())
    await leadership.round()
    await settled(leadership)
    assert work.done == ["lead"]
    assert leadership.hold.leading


async def test_a_replica_whose_lease_is_taken_follows_and_tries_again_each_period() -> None:
    lease = ToldLease(free=False)
    leadership, work, clock = replica(lease)
    await leadership.round()
    await leadership.round()  # too soon
    clock.now += 0.5
    await leadership.round()
    assert lease.asked == ["take", "take"]
    assert work.done == []


async def test_a_leader_whose_confirmation_is_refused_stops_and_lets_the_lease_go() -> None:
    lease = ToldLease()
    leadership, work, clock = replica(lease)
    await leadership.round()
    await settled(leadership)
    lease.ours = False  # its session ended
    clock.now += 0.5
    await leadership.round()
    assert work.done == ["lead", "follow"]
    assert lease.asked == ["take", "confirm", "release"]
    assert not leadership.hold.leading


async def test_a_leader_not_confirmed_in_time_stops_without_asking() -> None:
    lease = ToldLease()
    leadership, work, clock = replica(lease)
    await leadership.round()
    await settled(leadership)
    clock.now += 2.0  # its rounds were held up past the lease
    await leadership.round()
    assert work.done == ["lead", "follow"]
    assert lease.asked == ["take", "release"]


async def test_a_leader_still_taking_over_when_its_lease_is_lost_is_cancelled_first() -> None:
    lease = ToldLease()
    work, clock = Work(), Clock()
    started = asyncio.Event()

    async def slow_lead() -> None:
        started.set()
        await asyncio.sleep(60)
        work.done.append("lead")  # never reached

    leadership = Leadership(lease, slow_lead, work.follow, TIMES, clock)
    await leadership.round()
    await started.wait()
    lease.ours = False
    clock.now += 0.5
    await leadership.round()
    assert work.done == ["follow"]
    assert leadership.leading is None


async def test_a_leader_that_resigns_stops_then_lets_the_lease_go_and_never_leads_again() -> None:
    lease = ToldLease()
    leadership, work, clock = replica(lease)
    await leadership.round()
    await settled(leadership)
    await leadership.resign()
    clock.now += 0.5
    await leadership.round()
    assert work.done == ["lead", "follow"]
    assert lease.asked[-1] == "release"
    assert not leadership.hold.leading


async def test_a_failed_take_over_steps_down_to_try_again() -> None:
    lease = ToldLease()
    work, clock = Work(), Clock()

    async def failing_lead() -> None:
        raise ConnectionError("database gone")

    leadership = Leadership(lease, failing_lead, work.follow, TIMES, clock)
    await leadership.round()
    await asyncio.wait({leadership.leading} if leadership.leading else set())
    await leadership.round()
    assert work.done == ["follow"]
    assert lease.asked == ["take", "release"]
    assert not leadership.hold.leading
