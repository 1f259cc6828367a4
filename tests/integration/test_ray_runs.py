"""Runs of components with `backend: ray`, placed by the real scheduler on a Ray-only
executor in front of the loopback Ray cluster (ray_loopback.py)."""

import json
import signal
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import nats
import pytest
from ray.job_submission import JobSubmissionClient

from tests.conftest import eventually
from tests.integration.conftest import Stack, start_stack, stop_stack, submit, wait_run
from tests.integration.executor_harness import Harness, start_harness
from tests.integration.processes import go, start_service
from tests.integration.ray_loopback import LoopbackRay

RUN_S = 120  # a Ray job's start on a loaded 2-core machine takes seconds
EXECUTOR = "ray-front"


@pytest.fixture
async def stack(nats_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    """Registry, scheduler and gateway in this process; the executor comes per test."""
    db = (f"sqlite+aiosqlite:///{tmp_path / 'scheduler.db'}", "main")
    running = await start_stack(
        nats_url, db, tmp_path / "home", with_executor=False, services=("registry",)
    )
    yield running
    await stop_stack(running)


@pytest.fixture
async def ray_executor(
    loopback_ray: LoopbackRay, nats_url: str, tmp_path: Path
) -> AsyncIterator[Harness]:
    harness = await start_harness(
        "ray",
        nats_url,
        tmp_path / "executor",
        executor_id=EXECUTOR,
        ray_address=loopback_ray.address,
        ray_gpu_resource="fakegpu",
        heartbeat_s=0.5,
    )
    yield harness
    await harness.service.stop()
    await harness.client.close()


async def register(stack: Stack, name: str, command: str, extra: str = "") -> None:
    text = (
        f"kind: component\nname: {name}\nbackend: ray\n"
        f"command: [sh, -c, {json.dumps(command)}]\n{extra}"
    )
    response = await stack.http.post(
        "/v1/components", content=text, headers={"content-type": "application/yaml"}
    )
    assert response.status_code in (200, 201), response.text


async def reason_of(stack: Stack, run_id: str, prefix: str) -> str:
    async def check() -> str | None:
        reason = (await stack.http.get(f"/v1/runs/{run_id}")).json().get("reason") or ""
        return reason if reason.startswith(prefix) else None

    return str(await eventually(check, timeout=30))


async def test_a_run_asking_more_than_the_cluster_has_waits_with_the_reason(
    stack: Stack, ray_executor: Harness
) -> None:
    await register(stack, "two-gpus", "echo never", "resources: {gpu: 2}\n")
    await register(stack, "one-gpu", "echo fits", "resources: {gpu: 1, cpu: 0.5}\n")
    waiting = await submit(stack.http, component="two-gpus")
    fits = await submit(stack.http, component="one-gpu")

    run = await wait_run(stack.http, fits, timeout=RUN_S)
    assert run["state"] == "completed", run
    assert run["executor_id"] == EXECUTOR
    assert await reason_of(stack, waiting, "needs") == (
        "needs gpu=2; the most any executor has is 1"
    )
    assert (await stack.http.get(f"/v1/runs/{waiting}")).json()["state"] == "pending"


async def test_a_run_past_its_timeout_is_stopped(stack: Stack, ray_executor: Harness) -> None:
    await register(stack, "sleeper", "echo begun; sleep 300", "timeout: 3\n")
    run_id = await submit(stack.http, component="sleeper")
    run = await wait_run(stack.http, run_id, timeout=RUN_S)

    assert run["state"] == "failed", run
    assert run["reason"].startswith("timeout after 3 s"), run


@pytest.fixture
def executor_process(
    loopback_ray: LoopbackRay, nats_url: str
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(home: Path, standby: bool = False) -> subprocess.Popen[bytes]:
        process = start_service(
            "executor",
            home,
            standby=standby,
            nats_url=nats_url,
            executor_id=EXECUTOR,
            heartbeat_s=1,
            ray_address=loopback_ray.address,
            ray_gpu_resource="fakegpu",
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            process.wait(30)


async def logged(stack: Stack, run_id: str, lines: list[str]) -> bool:
    response = await stack.http.get(f"/v1/runs/{run_id}/logs")
    return (
        response.status_code == 200 and [line["line"] for line in response.json()["lines"]] == lines
    )


async def ended_reports(nats_url: str, run_id: str) -> list[Any]:
    """Every end report the stream holds for the run."""
    client = await nats.connect(nats_url)
    try:
        js = client.jetstream()
        sub = await js.subscribe("executor.run.ended", ordered_consumer=True)
        found: list[Any] = []
        while True:  # stored messages come in a burst: a pause means none is left
            try:
                msg = await sub.next_msg(timeout=3)
            except nats.errors.TimeoutError:
                return found
            if json.loads(msg.data)["run_id"] == run_id:
                found.append(msg)
    finally:
        await client.close()


async def test_a_restarted_executor_attaches_to_the_job_instead_of_starting_it_again(
    stack: Stack,
    executor_process: Callable[..., subprocess.Popen[bytes]],
    loopback_ray: LoopbackRay,
    nats_url: str,
    tmp_path: Path,
) -> None:
    starts = tmp_path / "starts"
    go_on = tmp_path / "go-on"
    wait = (
        f"echo begun >> {starts}; echo begun; while [ ! -e {go_on} ]; do sleep 0.1; done; "
        "echo ended"
    )
    await register(stack, "long", wait)
    home = tmp_path / "executor"
    first = executor_process(home)
    run_id = await submit(stack.http, component="long")

    async def begun() -> bool:
        return starts.exists()

    await eventually(begun, timeout=RUN_S)
    await eventually(lambda: logged(stack, run_id, ["begun"]), timeout=RUN_S)
    second = executor_process(home, standby=True)  # imported, as a supervisor's would be

    async def on_standby() -> bool:
        return (home / f"{EXECUTOR}.standby").exists()

    await eventually(on_standby, timeout=60)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    go(second)
    go_on.touch()
    run = await wait_run(stack.http, run_id, timeout=RUN_S)

    assert run["state"] == "completed", (run["reason"], run["exit_code"])
    assert starts.read_text() == "begun\n"
    assert await logged(stack, run_id, ["begun", "ended"])  # each line once, in order
    jobs = JobSubmissionClient(loopback_ray.address).list_jobs()
    assert [
        job.submission_id for job in jobs if (job.metadata or {}).get("boxops_run") == run_id
    ] == [f"boxops-{run_id}-1"]
    assert len(await ended_reports(nats_url, run_id)) == 1
