"""An executor tells a run's attempts apart: a retry placed on it while the attempt before
it still settles (its work dir being removed) starts, and is not taken for a redelivery."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.executor.app import build_app
from services.executor.settings import ExecutorSettings
from shared.service import Service
from tests.integration.conftest import Stack, start_stack, stop_stack, submit, wait_run

# The first attempt leaves many files: removing its dir takes a while after its end report,
# and the retry (no backoff) is dispatched meanwhile.
FIRST_FAILS = (
    'if [ "$BOXOPS_ATTEMPT" = 1 ]; then mkdir w && cd w && seq 40000 | xargs touch; exit 3; fi;'
    " echo second"
)


@pytest.fixture
async def settling(nats_url: str, db: tuple[str, str], tmp_path: Path) -> AsyncIterator[Stack]:
    """A stack whose executor removes a failed attempt's dir at once."""
    stack = await start_stack(nats_url, db, tmp_path / "home", with_executor=False)
    settings = ExecutorSettings(
        nats_url=nats_url,
        home=tmp_path / "home",
        executor_id="ex1",
        heartbeat_s=0.5,
        keep_failed_workdirs_s=0,
        local_sandbox=False,
    )
    executor: Service = build_app(settings)
    await executor.start()
    yield stack
    await executor.stop()
    await stop_stack(stack)


async def test_a_retry_dispatched_while_its_earlier_attempt_settles_runs(settling: Stack) -> None:
    run_id = await submit(
        settling.http, command=["sh", "-c", FIRST_FAILS], retries=1, retry_backoff_s=0
    )
    run = await wait_run(settling.http, run_id, timeout=40)

    assert (run["state"], run["attempt"], run["reason"]) == ("completed", 2, "exit code 0")
