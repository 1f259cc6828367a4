"""Reconciling what the scheduler holds on an executor with its heartbeats, and resolving a
run whose executor lost it."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from services.scheduler import domain
from services.scheduler.domain import Run, RunState
from services.scheduler.handlers import _listed
from services.scheduler.reconcile import Attempt, Reconciler, Verdict
from shared.events import ExecutorHeartbeat, RunningAttempt
from shared.runs import RunSubstate

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
BEAT = timedelta(seconds=1)
STOP_EVERY = timedelta(seconds=15)
R1, R2, R9 = ("r1", 1), ("r2", 1), ("r9", 1)


def beats(
    reconciler: Reconciler, held: set[Attempt], running: set[Attempt], *times: float
) -> Verdict:
    """One heartbeat at each of `times` (seconds after T0); the verdict of the last."""
    verdict = Verdict()
    for t in times:
        at = T0 + timedelta(seconds=t)
        verdict = reconciler.observe("ex1", held, running, interval=BEAT, at=at)
    return verdict


def test_a_held_run_the_executor_lists_is_neither_lost_nor_stray() -> None:
    assert beats(Reconciler(STOP_EVERY), {R1}, {R1}, 0, 1, 2, 3) == Verdict()


def test_a_run_dispatched_moments_ago_and_not_yet_listed_is_not_lost() -> None:
    assert beats(Reconciler(STOP_EVERY), {R1}, set(), 0, 1) == Verdict()


def test_a_held_run_missing_for_longer_than_the_grace_is_lost() -> None:
    assert beats(Reconciler(STOP_EVERY), {R1}, set(), 0, 1, 2) == Verdict(lost=[R1])


def test_a_run_listed_again_starts_its_grace_anew() -> None:
    reconciler = Reconciler(STOP_EVERY)
    beats(reconciler, {R1}, set(), 0, 1)
    beats(reconciler, {R1}, {R1}, 1.5)
    assert beats(reconciler, {R1}, set(), 2, 3) == Verdict()
    assert beats(reconciler, {R1}, set(), 4) == Verdict(lost=[R1])


def test_the_grace_follows_the_executors_own_heartbeat_interval() -> None:
    reconciler = Reconciler(STOP_EVERY)
    fast = timedelta(milliseconds=200)
    for ms in (0, 200, 400):
        verdict = reconciler.observe(
            "ex1", {R1}, set(), interval=fast, at=T0 + timedelta(milliseconds=ms)
        )
    assert verdict == Verdict(lost=[R1])


def test_executors_are_reconciled_apart() -> None:
    reconciler = Reconciler(STOP_EVERY)
    reconciler.observe("ex1", {R1}, set(), interval=BEAT, at=T0)
    reconciler.observe("ex2", {R2}, {R2}, interval=BEAT, at=T0 + 2 * BEAT)
    later = reconciler.observe("ex1", {R1}, set(), interval=BEAT, at=T0 + 2 * BEAT)
    assert later == Verdict(lost=[R1])


def test_a_run_no_longer_held_is_forgotten() -> None:
    reconciler = Reconciler(STOP_EVERY)
    beats(reconciler, {R1}, set(), 0, 1)
    assert beats(reconciler, set(), set(), 2) == Verdict()
    assert beats(reconciler, {R1}, set(), 3) == Verdict()  # held again: a new grace


def test_a_run_listed_but_not_held_is_a_stray_asked_to_stop_again_only_after_a_while() -> None:
    reconciler = Reconciler(STOP_EVERY)
    assert beats(reconciler, set(), {R9}, 0) == Verdict(strays=[R9])
    reconciler.asked_to_stop("ex1", R9, at=T0)
    assert beats(reconciler, set(), {R9}, 1, 10, 15) == Verdict()
    assert beats(reconciler, set(), {R9}, 16) == Verdict(strays=[R9])


def test_a_stray_that_stopped_and_comes_back_is_asked_at_once() -> None:
    reconciler = Reconciler(STOP_EVERY)
    reconciler.asked_to_stop("ex1", R9, at=T0)
    beats(reconciler, set(), set(), 1)
    assert beats(reconciler, set(), {R9}, 2) == Verdict(strays=[R9])


def test_a_retry_has_its_own_grace_not_the_time_its_earlier_attempt_was_missing() -> None:
    reconciler = Reconciler(STOP_EVERY)
    retry = ("r1", 2)
    beats(reconciler, {R1}, set(), 0, 1)  # attempt 1 missing for a second
    assert beats(reconciler, {retry}, set(), 2, 3) == Verdict()  # its retry, dispatched at 2
    assert beats(reconciler, {retry}, set(), 4) == Verdict(lost=[retry])


def test_an_earlier_attempt_still_listed_beside_its_retry_is_a_stray_and_the_retry_is_not() -> None:
    retry = ("r1", 2)
    assert beats(Reconciler(STOP_EVERY), {retry}, {R1, retry}, 0, 1, 2) == Verdict(strays=[R1])


def running(**changes: object) -> Run:
    run = Run(id="r1", command=("sleep", "30"), created_at=T0, executor_id="ex1")
    run = domain.start(run, "ex1", at=T0)
    return replace(run, **changes)  # type: ignore[arg-type]


def test_a_lost_run_fails_with_the_reason() -> None:
    lost = domain.lose(running(), "the executor restarted and lost the run", at=T0)
    assert (lost.state, lost.reason) == (RunState.FAILED, "the executor restarted and lost the run")
    assert lost.error == "the executor restarted and lost the run"


def test_a_lost_run_with_retries_left_is_retried() -> None:
    lost = domain.lose(running(retries=1), "executor lost", at=T0)
    assert (lost.state, lost.substate) == (RunState.PENDING, RunSubstate.RETRYING)
    assert lost.reason == "retry 1/1 in 5 s after executor lost"
    assert lost.executor_id is None


def test_a_lost_run_the_user_asked_to_abort_is_aborted_saying_the_executor_did_not_answer() -> None:
    asked = domain.request_stop(running(retries=3), "aborted by user")
    lost = domain.lose(asked, "executor lost", at=T0)
    assert lost.state is RunState.ABORTED
    assert lost.reason == "aborted by user; the executor did not answer: executor lost"


def test_a_run_that_completed_says_what_the_executor_killed_after_it() -> None:
    reason = "exit code 0; killed what it left running: sleep[42]"
    ended = domain.end(running(), exit_code=0, reason=reason, stderr_tail="", outputs={}, at=T0)
    assert (ended.state, ended.reason) == (RunState.COMPLETED, reason)


def test_an_aborted_run_whose_restarted_executor_reports_it_lost_says_so() -> None:
    asked = domain.request_stop(running(), "aborted by user")
    reason = "the executor restarted and lost the run; killed sleep[42]"
    ended = domain.end(asked, exit_code=None, reason=reason, stderr_tail="", outputs={}, at=T0)
    assert (ended.state, ended.reason) == (RunState.ABORTED, f"aborted by user; {reason}")
    stopped = domain.end(asked, exit_code=-15, reason="", stderr_tail="", outputs={}, at=T0)
    assert (stopped.state, stopped.reason) == (RunState.ABORTED, "aborted by user")


def beat(running: list[str], attempts: list[RunningAttempt] | None) -> ExecutorHeartbeat:
    return ExecutorHeartbeat(executor_id="ex1", running=running, attempts=attempts, at=T0)


def test_a_heartbeat_lists_attempts_and_one_from_an_older_executor_runs_by_run_only() -> None:
    listed = [RunningAttempt(run_id="r1", attempt=2)]
    assert _listed(beat(["r1"], listed), {("r1", 2)}) == {("r1", 2)}
    # Its runs' held attempts; a run not held, with an attempt it cannot name (0).
    assert _listed(beat(["r1", "r9"], None), {("r1", 2)}) == {("r1", 2), ("r9", 0)}
