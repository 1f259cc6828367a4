"""`place`: free capacity and the queue in, dispatch decisions and reasons to wait out."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from services.scheduler.domain import Run, RunState
from services.scheduler.placement import (
    LOST_AFTER,
    Decisions,
    Executor,
    Load,
    Occupancy,
    free_slots,
    place,
)
from shared.events import Resources

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
LOST = T0 - LOST_AFTER - timedelta(seconds=1)


def run(id: str, age_s: float = 0, **changes: object) -> Run:
    created = T0 - timedelta(seconds=age_s)
    return replace(Run(id=id, command=("true",), created_at=created), **changes)  # type: ignore[arg-type]


def executor(id: str, cpu: float = 4, gpu: int = 0, slots: int = 4, **kw: object) -> Executor:
    capacity = Resources(cpu=cpu, memory_mb=8192, gpu=gpu)
    return Executor(id=id, capacity=capacity, slots=slots, last_seen=kw.pop("last_seen", T0), **kw)  # type: ignore[arg-type]


def dispatched(decided: Decisions) -> list[tuple[str, str]]:
    return [(r.id, executor_id) for r, executor_id in decided.dispatch]


def waiting(decided: Decisions) -> dict[str, str]:
    return {r.id: reason for r, reason in decided.wait}


def test_a_run_goes_to_a_live_executor_with_room_and_nothing_waits() -> None:
    decided = place([run("r")], [executor("a")], {}, {}, at=T0)
    assert dispatched(decided) == [("r", "a")]
    assert decided.wait == []


def test_an_empty_queue_or_no_executor_decides_nothing_but_why() -> None:
    assert place([], [executor("a")], {}, {}, at=T0) == Decisions()
    assert waiting(place([run("r")], [], {}, {}, at=T0)) == {
        "r": "waiting for an executor: none is alive"
    }


def test_the_last_slot_goes_to_the_higher_priority_then_to_the_oldest() -> None:
    queue = [run("new"), run("old", age_s=5), run("urgent", priority=3)]
    one_slot = [executor("a", slots=1)]
    assert dispatched(place(queue, one_slot, {}, {}, at=T0)) == [("urgent", "a")]
    assert dispatched(place(queue[:2], one_slot, {}, {}, at=T0)) == [("old", "a")]


def test_decisions_come_in_placement_order() -> None:
    queue = [run("c"), run("b", age_s=1), run("a", age_s=2), run("z", priority=1)]
    decided = place(queue, [executor("x", slots=8)], {}, {}, at=T0)
    assert [r for r, _ in dispatched(decided)] == ["z", "a", "b", "c"]


def test_runs_that_only_wait_their_turn_get_no_reason() -> None:
    queue = [run(f"r{i}", age_s=i) for i in range(3)]
    decided = place(queue, [executor("a", slots=2)], {}, {}, at=T0)
    assert dispatched(decided) == [("r2", "a"), ("r1", "a")]
    assert decided.wait == []


def test_what_executors_already_hold_counts_against_their_room() -> None:
    full = {"a": Load(runs=4)}
    assert place([run("r")], [executor("a")], full, {}, at=T0) == Decisions()
    cpu_used = {"a": Load(runs=1, cpu=3)}
    needs_two = run("r", resources=Resources(cpu=2))
    assert place([needs_two], [executor("a")], cpu_used, {}, at=T0) == Decisions()


def test_runs_placed_in_one_call_use_up_cpu_memory_and_gpus_for_the_next() -> None:
    for needs in (Resources(cpu=3), Resources(memory_mb=5000), Resources(gpu=1)):
        queue = [run("first", age_s=1, resources=needs), run("second", resources=needs)]
        decided = place(queue, [executor("a", gpu=1)], {}, {}, at=T0)
        assert dispatched(decided) == [("first", "a")], needs


def test_runs_spread_over_executors_the_least_loaded_first() -> None:
    queue = [run(f"r{i}", age_s=10 - i) for i in range(4)]
    decided = place(queue, [executor("b"), executor("a")], {"a": Load(runs=1)}, {}, at=T0)
    assert dispatched(decided) == [("r0", "b"), ("r1", "a"), ("r2", "b"), ("r3", "a")]


def test_the_inputs_are_left_as_they_were() -> None:
    load, active = {"a": Load(runs=1)}, {"k": 0}
    place([run("r", concurrency_key="k")], [executor("a")], load, active, at=T0)
    assert load == {"a": Load(runs=1)} and active == {"k": 0}


def test_a_run_no_executor_could_take_waits_with_what_it_needs_and_others_go_on() -> None:
    queue = [run("gpu", age_s=1, resources=Resources(gpu=1)), run("plain")]
    decided = place(queue, [executor("a", slots=1)], {}, {}, at=T0)
    assert dispatched(decided) == [("plain", "a")]
    assert waiting(decided) == {"gpu": "needs gpu=1; no executor has a gpu"}


def test_every_unmet_need_is_named() -> None:
    greedy = run("r", backend="ray", selector={"zone": "eu"}, resources=Resources(cpu=16))
    assert waiting(place([greedy], [executor("a")], {}, {}, at=T0)) == {
        "r": "needs backend ray; no executor offers it; "
        "needs cpu=16; the most any executor has is 4; "
        "needs labels zone=eu; no executor has them"
    }


def test_labels_and_backends_steer_a_run_to_the_executor_that_offers_them() -> None:
    plain = executor("plain")
    special = executor("special", labels={"zone": "eu"}, backends=("local", "docker"))
    queue = [run("eu", selector={"zone": "eu"}), run("docker", backend="docker", age_s=1)]
    decided = place(queue, [plain, special], {}, {}, at=T0)
    assert sorted(dispatched(decided)) == [("docker", "special"), ("eu", "special")]


def test_dead_executors_take_nothing() -> None:
    decided = place([run("r")], [executor("a", last_seen=LOST)], {}, {}, at=T0)
    assert waiting(decided) == {"r": "waiting for an executor: none is alive"}


def test_a_concurrency_limit_counts_active_runs_and_those_placed_just_now() -> None:
    queue = [run(f"r{i}", age_s=5 - i, concurrency_key="k", max_concurrency=2) for i in range(3)]
    decided = place(queue, [executor("a")], {}, {"k": 1}, at=T0)
    assert dispatched(decided) == [("r0", "a")]
    reason = "concurrency limit 2 reached for k"
    assert waiting(decided) == {"r1": reason, "r2": reason}


def test_a_run_held_by_its_limit_leaves_the_slot_to_the_next() -> None:
    queue = [run("held", age_s=1, concurrency_key="k", max_concurrency=1), run("free")]
    decided = place(queue, [executor("a", slots=1)], {}, {"k": 1}, at=T0)
    assert dispatched(decided) == [("free", "a")]
    assert waiting(decided) == {"held": "concurrency limit 1 reached for k"}


def test_runs_of_a_key_without_a_limit_are_counted_but_never_held() -> None:
    queue = [
        run("unlimited", age_s=1, concurrency_key="k"),
        run("limited", concurrency_key="k", max_concurrency=1),
    ]
    decided = place(queue, [executor("a")], {}, {}, at=T0)
    assert dispatched(decided) == [("unlimited", "a")]
    assert waiting(decided) == {"limited": "concurrency limit 1 reached for k"}


def test_runs_not_waiting_or_not_yet_due_are_passed_over() -> None:
    queue = [
        run("done", state=RunState.COMPLETED),
        run("dispatched", substate="dispatched", executor_id="a"),
        run("running", state=RunState.RUNNING, executor_id="a"),
        run("retry later", substate="retrying", not_before=T0 + timedelta(seconds=1)),
    ]
    assert place(queue, [executor("a")], {}, {}, at=T0) == Decisions()


def test_a_retry_is_placed_once_it_is_due() -> None:
    due = run("retry", substate="retrying", not_before=T0)
    assert dispatched(place([due], [executor("a")], {}, {}, at=T0)) == [("retry", "a")]


def test_free_slots_count_live_executors_room_never_below_zero() -> None:
    executors = [executor("a", slots=4), executor("b", slots=2), executor("c", last_seen=LOST)]
    load = {"a": Load(runs=1), "b": Load(runs=3)}
    assert free_slots(executors, load, at=T0) == 3


def test_occupancy_counts_each_active_run_once_per_concurrency_key() -> None:
    occupancy = Occupancy()
    for i, key in enumerate(["k", "k", "j"]):
        occupancy.update(run(f"r{i}", concurrency_key=key, substate="dispatched", executor_id="a"))
    occupancy.update(run("r1", concurrency_key="k", state=RunState.RUNNING, executor_id="a"))
    occupancy.update(run("r2", concurrency_key="j", state=RunState.COMPLETED))
    assert occupancy.active() == {"k": 2}
