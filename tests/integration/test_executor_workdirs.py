"""An executor with a real artifact store removes a completed run's work dir (whatever its
backend wrote there), and a dispatch of that attempt delivered again starts nothing."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import eventually
from tests.integration.executor_blobs import TOKEN, BlobStack, blob_stack_fixture  # noqa: F401
from tests.integration.executor_harness import Harness, need_docker, start_harness


@pytest.fixture(name="executor", params=["local", "docker"])
async def executor_with_store(
    request: pytest.FixtureRequest, nats_url: str, tmp_path: Path, blob_stack: BlobStack
) -> AsyncIterator[Harness]:
    if request.param == "docker":
        need_docker()
    harness = await start_harness(
        request.param, nats_url, tmp_path / "home", gateway_url=blob_stack.url, api_token=TOKEN
    )
    yield harness
    await harness.service.stop()
    await harness.client.close()


async def _gone(folder: Path) -> None:
    async def check() -> bool:
        return not await asyncio.to_thread(folder.exists)

    await eventually(check)


async def test_a_completed_run_with_outputs_leaves_no_work_dir(executor: Harness) -> None:
    script = 'echo weights > "$BOXOPS_OUTPUTS/model/w.bin"; echo scratch > "$BOXOPS_WORKDIR/t"'
    run_id = await executor.dispatch(["sh", "-c", script], outputs={"model": "model"})
    ended = await executor.ended(run_id)

    assert ended.exit_code == 0, ended
    assert [f.path for f in ended.outputs["model"].files] == ["w.bin"]
    await _gone(executor.workdir(run_id).parent)


async def test_a_dispatch_delivered_again_after_the_dir_went_starts_nothing(
    executor: Harness,
) -> None:
    run_id = await executor.dispatch(["sh", "-c", "echo once"])
    first = await executor.ended(run_id)
    started = await executor.started(run_id)
    await _gone(executor.workdir(run_id))

    await executor.dispatch(["sh", "-c", "echo once"], run_id=run_id)  # its ack was lost
    marker = await executor.dispatch(["true"])  # handled after it, one at a time
    await executor.ended(marker)

    assert executor.started_reports[run_id] == started
    assert executor.ended_reports[run_id] == first
    assert executor.output(run_id) == ["once"]
