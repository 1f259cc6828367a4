"""The ray backend against a real two-node Ray cluster on loopback (ray_loopback.py): the
executor submits each attempt as a Ray Job and reports it as any backend's run."""

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from ray.job_submission import JobSubmissionClient

from services.executor.ray_plan import submission_id
from shared.events import ExecutorHeartbeat, FileEntry, InputRef, Resources
from tests.conftest import free_port
from tests.integration.executor_blobs import TOKEN, BlobStack, blob_stack_fixture
from tests.integration.executor_harness import Harness, start_harness
from tests.integration.ray_loopback import LoopbackRay, add_node, kill_node

__all__ = ["blob_stack_fixture"]  # a fixture, used by name
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


@pytest.fixture
async def ray_with_store(
    loopback_ray: LoopbackRay, nats_url: str, tmp_path: Path, blob_stack: BlobStack
) -> AsyncIterator[Harness]:
    harness = await start_harness(
        "ray",
        nats_url,
        tmp_path / "home",
        executor_id="ex-ray-store",
        ray_address=loopback_ray.address,
        ray_gpu_resource="fakegpu",
        gateway_url=blob_stack.url,
        api_token=TOKEN,
    )
    yield harness
    await harness.service.stop()
    await harness.client.close()


async def test_the_node_fetches_inputs_by_digest_and_uploads_outputs(
    ray_with_store: Harness, blob_stack: BlobStack, tmp_path: Path
) -> None:
    data = tmp_path / "train.csv"
    data.write_bytes(b"x,y\n1,2\n")
    stored = await blob_stack.artifacts.put_file(data)
    entry = FileEntry(path="part/train.csv", size=stored.size, sha256=stored.sha256)
    train = InputRef(type="dataset", name="iris", version=3, files=[entry])
    script = (
        'cat "$BOXOPS_INPUTS/train/part/train.csv";'
        'printf weights > "$BOXOPS_OUTPUTS/model/weights.bin";'
        'echo \'{"acc": 0.9}\' > "$BOXOPS_OUTPUTS/scores/metrics.json";'
        'echo "::metric name=loss value=0.1 step=1"; echo "lr=$BOXOPS_PARAM_LR"'
    )
    run_id = await ray_with_store.dispatch(
        ["sh", "-c", script],
        inputs={"train": train},
        outputs={"model": "model", "scores": "metrics"},
        params={"lr": 0.01},
    )
    ended = await ray_with_store.ended(run_id, timeout=RUN_S)

    assert (ended.exit_code, ended.reason) == (0, "exit code 0"), ended
    assert ray_with_store.output(run_id) == [
        "x,y",
        "1,2",
        "::metric name=loss value=0.1 step=1",
        "lr=0.01",
    ]
    assert ended.outputs["model"].files == [
        FileEntry(path="weights.bin", size=7, sha256=hashlib.sha256(b"weights").hexdigest())
    ]
    assert ended.outputs["scores"].metrics == {"loss": 0.1, "acc": 0.9}
    fetched = await blob_stack.artifacts.get(ended.outputs["model"].files[0].sha256, tmp_path / "w")
    assert fetched.read_bytes() == b"weights"
    assert ended.logs is not None  # the executor archived what the job printed


async def test_an_input_the_node_cannot_fetch_fails_the_run_with_the_reason(
    ray_with_store: Harness,
) -> None:
    missing = FileEntry(path="gone.bin", size=3, sha256="0" * 64)
    ref = InputRef(type="model", name="m", version=1, files=[missing])
    run_id = await ray_with_store.dispatch(["sh", "-c", "echo never"], inputs={"model": ref})
    ended = await ray_with_store.ended(run_id, timeout=RUN_S)

    assert ended.exit_code is None
    assert ended.reason.startswith("input 'model': cannot fetch gone.bin"), ended.reason
    assert "never" not in ray_with_store.output(run_id)


async def test_a_run_with_an_image_is_refused_under_ray(ray_executor: Harness) -> None:
    run_id = await ray_executor.dispatch(["echo", "hi"], image="python:3.11-slim")
    ended = await ray_executor.ended(run_id, timeout=RUN_S)

    assert ended.exit_code is None
    assert ended.reason == (
        "the ray backend runs in the Ray nodes' own environment, not in an image: image "
        "'python:3.11-slim' is refused (leave image unset, or use backend docker)"
    )


async def test_an_unreachable_ray_address_offers_no_ray_and_says_why(
    nats_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    address = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    harness = await start_harness(
        "ray", nats_url, tmp_path / "home", ray_address=address, ray_poll_s=0.2
    )
    try:
        beat = await next_heartbeat(harness)
        retried = await next_heartbeat(harness)
    finally:
        await harness.service.stop()
        await harness.client.close()

    assert beat.backends == retried.backends == []
    assert beat.capacity.cpu == 0
    said = [r.getMessage() for r in caplog.records if address in r.getMessage()]
    assert said and said[0].startswith(f"ray cluster at {address}: "), said
    assert said[0].endswith("; no ray backend until it answers (retrying)")


async def next_heartbeat(harness: Harness) -> ExecutorHeartbeat:
    sub = await harness.client.subscribe(ExecutorHeartbeat.subject)
    try:
        return ExecutorHeartbeat.model_validate_json((await sub.next_msg(timeout=30)).data)
    finally:
        await sub.unsubscribe()


async def test_a_node_lost_mid_run_fails_the_run_with_rays_reason(
    loopback_ray: LoopbackRay, nats_url: str, tmp_path: Path
) -> None:
    # A node of its own, which only this test's runs fit on (its resource is their "gpu").
    await asyncio.to_thread(add_node, loopback_ray, "doomed", '{"doomed": 1}')
    harness = await start_harness(
        "ray",
        nats_url,
        tmp_path / "home",
        executor_id="ex-ray-doomed",
        ray_address=loopback_ray.address,
        ray_gpu_resource="doomed",
    )
    try:
        run_id = await harness.dispatch(
            ["sh", "-c", "echo begun; sleep 300"], resources=Resources(cpu=0.5, gpu=1)
        )
        await harness.printed(run_id, "begun", timeout=RUN_S)
        assert await asyncio.to_thread(kill_node, "doomed") > 0
        ended = await harness.ended(run_id, timeout=RUN_S)
    finally:
        await harness.service.stop()
        await harness.client.close()

    assert ended.exit_code is None
    assert ended.reason.startswith(f"ray job {submission_id(run_id, 1)} failed: "), ended.reason
