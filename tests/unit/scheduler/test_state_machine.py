"""The run state machine held to a lifecycle written out by hand, and placement edge cases.

test_run_states.py checks each pair against `ALLOWED` itself; these tests pin the table
to the intended lifecycle, so a widened or narrowed table fails here.
"""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from services.scheduler import domain
from services.scheduler.domain import ALLOWED, TERMINAL, IllegalTransition, Run, RunState
from services.scheduler.placement import LOST_AFTER, Executor, Load, alive, choose
from shared.events import (
    Resources,
    RunAborted,
    RunCompleted,
    RunFailed,
    RunPending,
    RunRunning,
    RunTransition,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
P, R, C, F, A = RunState
LIFECYCLE = {
    # pending → pending: a sub-state change; pending → completed: a cached step.
    (P, P), (P, R), (P, C), (P, F), (P, A),
    # running → pending: a retry waits for its next attempt.
    (R, P), (R, C), (R, F), (R, A),
}  # fmt: skip
EVENT_OF: dict[RunState, type[RunTransition]] = {
    P: RunPending,
    R: RunRunning,
    C: RunCompleted,
    F: RunFailed,
    A: RunAborted,
}
EARLIER = domain.Transition(P, "queued", T0, "accepted")


def a_run(state: RunState = P, **changes: object) -> Run:
    run = Run(id="r1", command=("true",), created_at=T0, executor_id="ex1", history=(EARLIER,))
    return replace(run, state=state, **changes)  # type: ignore[arg-type]


def an_executor(id: str, slots: int = 4, gpu: int = 0, **changes: object) -> Executor:
    executor = Executor(id=id, capacity=Resources(cpu=8, gpu=gpu), slots=slots, last_seen=T0)
    return replace(executor, **changes)  # type: ignore[arg-type]


def test_the_table_allows_exactly_the_intended_lifecycle() -> None:
    assert set(ALLOWED) == set(RunState)
    assert {(frm, to) for frm, targets in ALLOWED.items() for to in targets} == LIFECYCLE


@pytest.mark.parametrize(("frm", "to"), sorted(LIFECYCLE))
def test_a_legal_transition_appends_to_the_history_and_announces_the_new_state(
    frm: RunState, to: RunState
) -> None:
    at = T0 + timedelta(seconds=5)

    moved = domain.transition(a_run(frm), to, at=at, reason="because")

    assert (moved.state, moved.reason) == (to, "because")
    assert moved.history == (EARLIER, domain.Transition(to, None, at, "because"))
    event = domain.event_for(moved)
    assert type(event) is EVENT_OF[to]
    assert (event.run_id, event.state, event.at, event.reason) == ("r1", to.value, at, "because")


@pytest.mark.parametrize(
    ("frm", "to"), [pair for pair in product(RunState, RunState) if pair not in LIFECYCLE]
)
def test_an_illegal_transition_raises_and_leaves_the_run_as_it_was(
    frm: RunState, to: RunState
) -> None:
    run = a_run(frm)
    before = replace(run)

    with pytest.raises(IllegalTransition, match=f"run r1: {frm} → {to} is not allowed"):
        domain.transition(run, to, at=T0, reason="nope")

    assert run == before


@pytest.mark.parametrize("state", sorted(TERMINAL))
def test_a_finished_run_refuses_every_next_state(state: RunState) -> None:
    assert a_run(state).finished
    for to in RunState:
        with pytest.raises(IllegalTransition):
            domain.transition(a_run(state), to, at=T0, reason="again")


def test_an_end_report_for_a_finished_run_is_refused() -> None:
    with pytest.raises(IllegalTransition):
        domain.end(a_run(C), exit_code=0, reason="", stderr_tail="", outputs={}, at=T0)


def test_a_lost_start_report_then_a_non_zero_exit_runs_then_fails() -> None:
    run = domain.end(
        a_run(P, substate="dispatched"), exit_code=2, reason="", stderr_tail="", outputs={}, at=T0
    )

    assert [(t.state, t.reason) for t in run.history[1:]] == [
        (R, "process started"),
        (F, "exit code 2"),
    ]
    assert (run.exit_code, run.started_at) == (2, T0)


def test_a_running_process_that_vanished_fails_with_the_executors_reason() -> None:
    run = domain.end(
        a_run(R), exit_code=None, reason="executor lost", stderr_tail="", outputs={}, at=T0
    )

    assert (run.state, run.exit_code, run.reason, run.error) == (
        F,
        None,
        "executor lost",
        "executor lost",
    )


def test_an_executor_is_alive_up_to_lost_after_since_its_last_beat() -> None:
    executor = an_executor("a")

    assert alive(executor, at=T0 + LOST_AFTER)
    assert not alive(executor, at=T0 + LOST_AFTER + timedelta(milliseconds=1))
    assert not alive(replace(executor, last_seen=None), at=T0)


def test_an_executor_beating_slowly_is_lost_after_as_many_of_its_own_beats() -> None:
    slow = replace(an_executor("a"), interval=timedelta(seconds=5))

    assert alive(slow, at=T0 + timedelta(seconds=15))
    assert not alive(slow, at=T0 + timedelta(seconds=15, milliseconds=1))


def test_busyness_is_weighed_by_slots() -> None:
    big, small = an_executor("big", slots=10), an_executor("small", slots=2)

    # 3 of 10 slots in use is less busy than 1 of 2.
    load = {"big": Load(runs=3), "small": Load(runs=1)}
    assert choose(a_run(), [small, big], load, at=T0) == big


def test_equally_busy_executors_are_chosen_by_id() -> None:
    assert choose(a_run(), [an_executor("b"), an_executor("a")], {}, at=T0) == an_executor("a")


def test_gpus_in_use_count_against_an_executors_gpus() -> None:
    needs_one = a_run(resources=Resources(gpu=1))
    busy_gpus = an_executor("a", gpu=2)

    assert choose(needs_one, [busy_gpus], {"a": Load(runs=1, gpu=1)}, at=T0) == busy_gpus
    assert choose(needs_one, [busy_gpus], {"a": Load(runs=2, gpu=2)}, at=T0) is None


def test_an_executor_without_slots_takes_nothing() -> None:
    assert choose(a_run(), [an_executor("a", slots=0)], {}, at=T0) is None


def test_an_executor_saying_it_beats_hourly_is_heeded_up_to_a_minute() -> None:
    from services.scheduler.handlers import _executor
    from shared.events import ExecutorHeartbeat

    beat = ExecutorHeartbeat(executor_id="a", at=T0, interval_s=3600)
    assert _executor(beat).interval == timedelta(seconds=60)
    assert _executor(beat.model_copy(update={"interval_s": 5})).interval == timedelta(seconds=5)
