"""The ray backend against a real two-node Ray cluster on loopback (ray_loopback.py): the
executor submits each attempt as a Ray Job and reports it as any backend's run."""

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from ray.job_submission import JobSubmissionClient

from services.executor.ray_plan import submission_id
from shared.events import Resources
from tests.integration.executor_harness import Harness, start_harness
from tests.integration.ray_loopback import LoopbackRay, loopback_ray

__all__ = ["loopback_ray"]  # the fixture, used by name
RUN_S = 90  # a Ray job's start on a loaded 2-core machine takes seconds


@pytest.fixture
async def ray_executor(
    loopback_ray: LoopbackRay, nats_url: str, tmp_path: Path
) -> AsyncIterator[Harness]:
    harness = await start_harness(
        "ray",
        nats_url,
        tmp_path / "home",
        executor_id="ex-ray",
        ray_address=loopback_ray.address,
        ray_gpu_resource="fakegpu",
        stop_grace_s=1,
    )
    yield harness
    await harness.service.stop()
    await harness.client.close()


def job_node(cluster: LoopbackRay, run_id: str) -> str:
    info = JobSubmissionClient(cluster.address).get_job_info(submission_id(run_id, 1))
    return str(info.driver_node_id)


def nodes_with(cluster: LoopbackRay, resource: str) -> set[str]:
    body = httpx.get(f"{cluster.address}/api/v0/nodes", params={"detail": "true"}).json()
    nodes = body["data"]["result"]["result"]
    return {node["node_id"] for node in nodes if resource in node["resources_total"]}


async def test_a_run_asking_for_a_gpu_lands_on_the_node_that_has_one(
    ray_executor: Harness, loopback_ray: LoopbackRay
) -> None:
    run_id = await ray_executor.dispatch(
        ["sh", "-c", 'echo "on ray with $BOXOPS_PARAM_WHO"; echo "::metric name=acc value=0.5"'],
        params={"who": "params"},
        resources=Resources(cpu=0.5, memory_mb=64, gpu=1),
    )
    ended = await ray_executor.ended(run_id, timeout=RUN_S)

    assert ended.exit_code == 0, ended.reason
    assert ended.reason == "exit code 0"
    assert ray_executor.output(run_id) == ["on ray with params", "::metric name=acc value=0.5"]
    assert ended.metrics == {"acc": 0.5}
    assert job_node(loopback_ray, run_id) in nodes_with(loopback_ray, "fakegpu")


async def test_a_failing_black_box_fails_with_its_exit_code_and_stderr(
    ray_executor: Harness,
) -> None:
    run_id = await ray_executor.dispatch(["sh", "-c", "echo out; echo oops >&2; exit 3"])
    ended = await ray_executor.ended(run_id, timeout=RUN_S)

    assert ended.exit_code == 3
    assert ended.reason == "exit code 3"
    assert ended.stderr_tail == "oops"
    assert [line.stream for _, line in ray_executor.lines[run_id]] == ["stdout", "stderr"]


async def test_a_command_the_node_cannot_start_fails_with_the_reason(
    ray_executor: Harness,
) -> None:
    run_id = await ray_executor.dispatch(["no-such-program-here"])
    ended = await ray_executor.ended(run_id, timeout=RUN_S)

    assert ended.exit_code is None
    assert ended.reason == "cannot start 'no-such-program-here': No such file or directory"


async def test_two_runs_run_at_once(ray_executor: Harness, tmp_path: Path) -> None:
    # Each waits until the other has begun: both end well only if they ran concurrently.
    meet = tmp_path / "meet"
    meet.mkdir()
    wait = (
        'touch "$0/$1"; i=0; while [ ! -e "$0/$2" ]; do i=$((i+1)); '
        '[ $i -gt 600 ] && exit 7; sleep 0.1; done; echo "$1 met $2"'
    )
    first = await ray_executor.dispatch(["sh", "-c", wait, str(meet), "a", "b"])
    second = await ray_executor.dispatch(["sh", "-c", wait, str(meet), "b", "a"])

    assert (await ray_executor.ended(first, timeout=RUN_S)).exit_code == 0
    assert (await ray_executor.ended(second, timeout=RUN_S)).exit_code == 0
    assert ray_executor.output(first) == ["a met b"]


async def test_abort_stops_the_job_within_five_seconds(ray_executor: Harness) -> None:
    run_id = await ray_executor.dispatch(["sh", "-c", "echo begun; sleep 300"])
    await ray_executor.printed(run_id, "begun", timeout=RUN_S)
    asked = time.monotonic()
    await ray_executor.stop(run_id)
    ended = await ray_executor.ended(run_id, timeout=30)

    assert time.monotonic() - asked < 5
    assert ended.exit_code == -15  # its SIGTERM, as a local run's
    assert ended.reason == "aborted by user"
