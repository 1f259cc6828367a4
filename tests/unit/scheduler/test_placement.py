"""Placement: who takes a run, and why a run waits. Pure, no I/O."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from services.scheduler.domain import Run
from services.scheduler.placement import (
    LOST_AFTER,
    Executor,
    Load,
    Occupancy,
    choose,
    placement_order,
    why_waiting,
)
from shared.events import Resources

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def run(**changes: object) -> Run:
    return replace(Run(id="r", command=("true",), created_at=T0), **changes)  # type: ignore[arg-type]


def executor(name: str, cpu: float = 4, gpu: int = 0, slots: int = 4, **kw: object) -> Executor:
    return Executor(
        id=name,
        capacity=Resources(cpu=cpu, memory_mb=8192, gpu=gpu),
        slots=slots,
        last_seen=kw.pop("last_seen", T0),
        **kw,  # type: ignore[arg-type]
    )


def test_the_least_busy_live_executor_with_room_takes_the_run() -> None:
    a, b = executor("a"), executor("b")
    load = {"a": Load(runs=2, cpu=2)}
    assert choose(run(), [a, b], load, at=T0) == b


def test_dead_executors_take_nothing() -> None:
    stale = executor("a", last_seen=T0 - LOST_AFTER - timedelta(seconds=1))
    assert choose(run(), [stale], {}, at=T0) is None
    assert why_waiting(run(), [stale], at=T0) == "waiting for an executor: none is alive"


def test_a_stopping_executor_takes_nothing_and_the_waiting_run_says_why() -> None:
    stopping, other = executor("a", stopping=True), executor("b", slots=1)
    assert choose(run(), [stopping, other], {}, at=T0) == other
    assert choose(run(), [stopping], {}, at=T0) is None
    expected = "waiting for an executor: every live one is stopping"
    assert why_waiting(run(), [stopping], at=T0) == expected


def test_full_slots_or_used_up_cpu_mean_no_room() -> None:
    a = executor("a", cpu=2, slots=2)
    assert choose(run(), [a], {"a": Load(runs=2, cpu=0)}, at=T0) is None
    assert choose(run(resources=Resources(cpu=2)), [a], {"a": Load(runs=1, cpu=1)}, at=T0) is None
    assert why_waiting(run(), [a], at=T0) == "waiting for a free executor"


def test_a_run_no_executor_could_ever_take_says_what_it_needs() -> None:
    small = executor("a", cpu=2)
    assert why_waiting(run(resources=Resources(gpu=1)), [small], at=T0) == (
        "needs gpu=1; no executor has a gpu"
    )
    assert why_waiting(run(resources=Resources(cpu=16)), [small], at=T0) == (
        "needs cpu=16; the most any executor has is 2"
    )
    assert why_waiting(run(backend="docker"), [small], at=T0) == (
        "needs backend docker; no executor offers it"
    )
    assert why_waiting(run(selector={"zone": "eu"}), [small], at=T0) == (
        "needs labels zone=eu; no executor has them"
    )


def test_labels_and_gpus_steer_a_run_to_the_executor_that_has_them() -> None:
    plain, gpu = executor("plain"), executor("gpu", gpu=2, labels={"zone": "eu"})
    assert choose(run(resources=Resources(gpu=1)), [plain, gpu], {}, at=T0) == gpu
    assert choose(run(selector={"zone": "eu"}), [plain, gpu], {}, at=T0) == gpu


def test_higher_priority_goes_first_then_the_oldest() -> None:
    old = run(id="old", created_at=T0)
    new = run(id="new", created_at=T0 + timedelta(seconds=1))
    urgent = run(id="urgent", created_at=T0 + timedelta(seconds=2), priority=5)
    assert [r.id for r in placement_order([new, old, urgent])] == ["urgent", "old", "new"]


def test_occupancy_tracks_load_and_concurrency_keys() -> None:
    occupancy = Occupancy()
    held = run(
        id="r1",
        executor_id="a",
        substate="dispatched",
        concurrency_key="k",
        resources=Resources(cpu=2, gpu=1),
    )
    occupancy.update(held)
    assert occupancy.loads()["a"] == Load(runs=1, cpu=2, memory_mb=512, gpu=1)
    assert occupancy.active() == {"k": 1}
    occupancy.update(replace(held, substate="queued", executor_id=None))
    assert occupancy.loads() == {}
    assert occupancy.active() == {}
