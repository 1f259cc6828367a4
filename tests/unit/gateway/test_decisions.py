"""The gateway's wait for the scheduler's decision on a run it submitted."""

from datetime import UTC, datetime

import pytest

from services.gateway.decisions import Decisions
from shared.events import RunFailed, RunPending

AT = datetime(2026, 12, 7, tzinfo=UTC)


async def test_the_decision_on_the_run_is_returned_even_if_it_comes_during_the_submit() -> None:
    decisions = Decisions()
    refused = RunFailed(run_id="r1", state="failed", at=AT, reason="unknown param 'x'")

    async def submit() -> None:  # the answer can arrive before publish returns
        decisions.settle(RunPending(run_id="other", state="pending", at=AT))
        decisions.settle(refused)

    assert await decisions.first("r1", submit, timeout_s=5) == refused
    assert decisions.waiting == {}


async def test_no_decision_in_time_is_none_and_forgets_the_run() -> None:
    decisions = Decisions()

    async def submit() -> None:
        pass

    assert await decisions.first("r1", submit, timeout_s=0.01) is None
    assert await decisions.first("r2", submit, timeout_s=0) is None
    assert decisions.waiting == {}


async def test_a_request_that_could_not_be_published_is_an_error_not_a_pending_run() -> None:
    decisions = Decisions()

    async def submit() -> None:
        raise TimeoutError("no ack from the stream")

    with pytest.raises(TimeoutError, match="no ack"):
        await decisions.first("r1", submit, timeout_s=5)
    assert decisions.waiting == {}
