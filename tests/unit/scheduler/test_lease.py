"""The scheduler's lease as decisions: who leads, when it confirms, when it stops."""

import pytest

from services.scheduler.lease import (
    DEAD_PEER_S,
    Hold,
    LeaseTimes,
    Step,
    after,
    answer_within,
    held,
    next_step,
)

TIMES = LeaseTimes(confirm_every_s=0.5, valid_s=2.0)


def test_a_follower_tries_to_take_the_lease_at_once() -> None:
    assert next_step(Hold(), at=100.0, times=TIMES) is Step.TRY


def test_a_follower_tries_again_each_round_not_more_often() -> None:
    tried = after(Hold(), sent_at=100.0, answered=False)
    assert next_step(tried, at=100.4, times=TIMES) is Step.WAIT
    assert next_step(tried, at=100.5, times=TIMES) is Step.TRY


def test_an_answered_try_makes_a_leader_from_when_it_was_sent() -> None:
    hold = after(Hold(), sent_at=100.0, answered=True)
    assert hold.leading
    assert held(hold, at=101.9, times=TIMES)
    assert not held(hold, at=102.0, times=TIMES)


def test_a_leader_confirms_each_round() -> None:
    hold = after(Hold(), sent_at=100.0, answered=True)
    assert next_step(hold, at=100.2, times=TIMES) is Step.WAIT
    assert next_step(hold, at=100.5, times=TIMES) is Step.CONFIRM


def test_a_confirmation_renews_the_lease_from_when_it_was_sent() -> None:
    hold = after(after(Hold(), sent_at=100.0, answered=True), sent_at=101.5, answered=True)
    assert held(hold, at=103.4, times=TIMES)
    assert next_step(hold, at=103.4, times=TIMES) is Step.CONFIRM


def test_a_leader_not_confirmed_in_time_steps_down() -> None:
    hold = after(Hold(), sent_at=100.0, answered=True)
    assert next_step(hold, at=102.0, times=TIMES) is Step.STEP_DOWN


def test_a_refused_confirmation_makes_a_follower() -> None:
    hold = after(after(Hold(), sent_at=100.0, answered=True), sent_at=100.5, answered=False)
    assert not hold.leading
    assert not held(hold, at=100.6, times=TIMES)
    assert next_step(hold, at=101.0, times=TIMES) is Step.TRY


def test_a_leader_waits_for_its_confirmation_no_longer_than_the_lease_holds() -> None:
    hold = after(Hold(), sent_at=100.0, answered=True)
    assert answer_within(hold, at=100.5, times=TIMES) == pytest.approx(1.5)
    assert answer_within(hold, at=101.9, times=TIMES) == pytest.approx(0.1)
    assert answer_within(hold, at=103.0, times=TIMES) == 0.0


def test_a_follower_waits_for_an_answer_at_most_until_the_lease_would_end() -> None:
    assert answer_within(Hold(), at=100.0, times=TIMES) == pytest.approx(1.5)


def test_a_lease_holds_for_less_than_the_database_takes_to_let_a_silent_leader_go() -> None:
    with pytest.raises(ValueError, match="valid_s"):
        LeaseTimes(confirm_every_s=0.5, valid_s=DEAD_PEER_S)
    with pytest.raises(ValueError):
        LeaseTimes(confirm_every_s=2.0, valid_s=1.0)
    assert LeaseTimes().valid_s < DEAD_PEER_S
