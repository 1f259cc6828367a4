"""The run state machine, exhaustively: every legal and illegal transition. Pure, no I/O."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from services.scheduler import domain
from services.scheduler.domain import ALLOWED, TERMINAL, IllegalTransition, Run, RunState
from shared.events import (
    FileEntry,
    RunAborted,
    RunCompleted,
    RunDispatched,
    RunFailed,
    RunOutput,
    RunPending,
    RunRunning,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
EVENT_OF = {
    RunState.PENDING: RunPending,
    RunState.RUNNING: RunRunning,
    RunState.COMPLETED: RunCompleted,
    RunState.FAILED: RunFailed,
    RunState.ABORTED: RunAborted,
}


def a_run(state: RunState = RunState.PENDING, **changes: object) -> Run:
    run = Run(id="r1", command=("true",), created_at=T0, executor_id="ex1")
    return replace(run, state=state, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(("frm", "to"), list(product(RunState, RunState)))
def test_every_pair_of_states_is_allowed_exactly_as_the_table_says(
    frm: RunState, to: RunState
) -> None:
    run = a_run(frm)
    if to in ALLOWED[frm]:
        moved = domain.transition(run, to, at=T0, reason="because")
        assert moved.state is to
        assert moved.history[-1] == domain.Transition(to, None, T0, "because")
        assert isinstance(domain.event_for(moved), EVENT_OF[to])
    else:
        with pytest.raises(IllegalTransition, match=f"{frm} → {to}"):
            domain.transition(run, to, at=T0, reason="because")


def test_a_terminal_run_cannot_restart() -> None:
    for state in TERMINAL:
        assert ALLOWED[state] == frozenset()


def test_the_public_vocabulary_is_exactly_five_states() -> None:
    assert [s.value for s in RunState] == ["pending", "running", "completed", "failed", "aborted"]


def test_accept_then_dispatch_records_sub_states_and_announces_the_dispatch() -> None:
    run = domain.dispatch(domain.accept(a_run(executor_id=None), at=T0), "ex9", at=T0)
    assert [(t.state, t.substate, t.reason) for t in run.history] == [
        (RunState.PENDING, "queued", "accepted"),
        (RunState.PENDING, "dispatched", "placed on executor ex9"),
    ]
    event = domain.event_for(run)
    assert isinstance(event, RunDispatched)
    assert (event.executor_id, event.command, event.nats_subject()) == (
        "ex9",
        ["true"],
        "run.dispatched.ex9",
    )
    assert run.on_executor


def test_exit_code_zero_completes_with_the_outputs() -> None:
    outputs = {
        "model": RunOutput(
            type="model", name="m", files=[FileEntry(path="m.pkl", size=1, sha256="a" * 64)]
        )
    }
    run = domain.end(
        a_run(RunState.RUNNING), exit_code=0, reason="", stderr_tail="", outputs=outputs, at=T0
    )
    assert (run.state, run.reason, run.exit_code) == (RunState.COMPLETED, "exit code 0", 0)
    event = domain.event_for(run)
    assert isinstance(event, RunCompleted)
    assert event.outputs == outputs


def test_a_non_zero_exit_fails_with_the_code_and_stderr() -> None:
    run = domain.end(
        a_run(RunState.RUNNING),
        exit_code=3,
        reason="exit code 3",
        stderr_tail="boom",
        outputs={},
        at=T0,
    )
    assert (run.state, run.reason, run.exit_code, run.error) == (
        RunState.FAILED,
        "exit code 3",
        3,
        "boom",
    )


def test_a_run_that_never_started_fails_without_an_exit_code() -> None:
    run = domain.end(
        a_run(substate="dispatched"),
        exit_code=None,
        reason="cannot start 'x': not found",
        stderr_tail="",
        outputs={},
        at=T0,
    )
    assert (run.state, run.exit_code, run.reason) == (
        RunState.FAILED,
        None,
        "cannot start 'x': not found",
    )


def test_an_end_report_without_a_start_report_passes_through_running() -> None:
    run = domain.end(
        a_run(substate="dispatched"), exit_code=0, reason="", stderr_tail="", outputs={}, at=T0
    )
    assert [t.state for t in run.history] == [RunState.RUNNING, RunState.COMPLETED]


def test_a_failure_with_retries_left_waits_with_doubling_backoff() -> None:
    run = a_run(RunState.RUNNING, retries=2, retry_backoff_s=3.0)
    first = domain.fail(run, "exit code 1", at=T0)
    assert (first.state, first.substate, first.attempt) == (RunState.PENDING, "retrying", 2)
    assert first.not_before == T0 + timedelta(seconds=3)
    assert first.executor_id is None
    second = domain.fail(replace(first, state=RunState.RUNNING), "exit code 1", at=T0)
    assert second.not_before == T0 + timedelta(seconds=6)
    assert second.reason == "retry 2/2 in 6 s after exit code 1"
    third = domain.fail(replace(second, state=RunState.RUNNING), "exit code 1", at=T0)
    assert (third.state, third.reason) == (RunState.FAILED, "exit code 1")


def test_a_stop_the_scheduler_asked_for_decides_how_the_end_is_read() -> None:
    running = a_run(RunState.RUNNING)
    aborted = domain.end(
        domain.request_stop(running, "aborted by user"),
        exit_code=-15,
        reason="",
        stderr_tail="",
        outputs={},
        at=T0,
    )
    assert (aborted.state, aborted.reason) == (RunState.ABORTED, "aborted by user")
    timed_out = domain.end(
        domain.request_stop(running, "timeout after 5 s"),
        exit_code=0,
        reason="",
        stderr_tail="",
        outputs={},
        at=T0,
    )
    assert (timed_out.state, timed_out.reason) == (RunState.FAILED, "timeout after 5 s")


def test_a_refused_request_fails_at_once_with_its_reason() -> None:
    run = domain.reject(domain.accept(a_run(), at=T0), "unknown param 'x'", at=T0)
    assert (run.state, run.substate, run.error) == (
        RunState.FAILED,
        "rejected",
        "unknown param 'x'",
    )


def test_waiting_records_a_reason_only_when_it_changes() -> None:
    run = domain.accept(a_run(), at=T0)
    waited = domain.wait(run, "needs gpu=1; no executor has a gpu", at=T0)
    assert waited is not None and waited.reason.startswith("needs gpu=1")
    assert waited.substate == "queued"
    assert domain.wait(waited, "needs gpu=1; no executor has a gpu", at=T0) is None


def test_a_cached_step_completes_with_the_earlier_runs_outputs() -> None:
    source = a_run(RunState.COMPLETED, id="old", outputs={"m": RunOutput(type="model")})
    run = domain.complete_from_cache(domain.accept(a_run(), at=T0), source, at=T0)
    assert (run.state, run.reason, run.outputs) == (
        RunState.COMPLETED,
        "completed (cached from old)",
        source.outputs,
    )
