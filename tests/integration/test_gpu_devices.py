"""GPUs named by BOXOPS_EXECUTOR_GPUS (no NVML needed): each run gets its own devices until
it ends, a run asking none sees none, and a restarted executor's dead runs hold none."""

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from boxops.cli.executors import gpus
from tests.conftest import eventually
from tests.integration.conftest import Stack, submit, wait_run
from tests.integration.processes import go, start_service
from tests.integration.test_executor_restart import back, kill, on_standby

SHOW = 'echo "cuda=[${CUDA_VISIBLE_DEVICES-unset}]"; exec sleep 300'
EXECUTOR = "phoenix"  # as on_standby knows it


@pytest.fixture
def start(nats_url: str) -> Iterator[Any]:
    started: list[subprocess.Popen[bytes]] = []

    def executor(home: Path, *, standby: bool = False) -> subprocess.Popen[bytes]:
        process = start_service(
            "executor",
            home,
            standby=standby,
            nats_url=nats_url,
            executor_id=EXECUTOR,
            executor_gpus="0,1",
            heartbeat_s=0.5,
            stop_grace_s=1,
            local_sandbox=False,  # a run outlives a killed executor: its next life kills it
        )
        started.append(process)
        return process

    yield executor
    for process in started:
        if process.poll() is None:
            process.terminate()
            process.wait(20)


async def gpu_run(stack: Stack, gpu: int) -> str:
    resources = {"gpu": gpu, "cpu": 0.1, "memory_mb": 64}
    return await submit(stack.http, command=["sh", "-c", SHOW], resources=resources)


async def seen(stack: Stack, run_id: str) -> str:
    """What the run printed of its CUDA_VISIBLE_DEVICES."""

    async def printed() -> str | None:
        lines = (await stack.http.get(f"/v1/runs/{run_id}/logs")).json()["lines"]
        return next((x["line"] for x in lines if x["line"].startswith("cuda=")), None)

    return await eventually(printed, timeout=60)  # type: ignore[return-value]


async def busy(stack: Stack, runs: set[str]) -> list[dict[str, Any]]:
    """The executors listed once their devices are held by exactly `runs`."""

    async def check() -> list[dict[str, Any]] | None:
        found = (await stack.http.get("/v1/executors")).json()
        holders = {d["run_id"] for e in found for d in e["devices"]} - {None}
        return found if found and holders == runs else None

    return await eventually(check, timeout=30)  # type: ignore[return-value]


async def abort(stack: Stack, run_id: str) -> dict[str, Any]:
    assert (await stack.http.post(f"/v1/runs/{run_id}/abort")).status_code == 202
    return await wait_run(stack.http, run_id, timeout=60)


async def test_two_gpu_runs_get_different_devices_a_third_waits_and_none_sees_none(
    scheduler_side: Stack, start: Any, tmp_path: Path
) -> None:
    stack = scheduler_side
    start(tmp_path / "executor")
    first, second = await gpu_run(stack, 1), await gpu_run(stack, 1)
    shown = {await seen(stack, first), await seen(stack, second)}
    assert shown == {"cuda=[0]", "cuda=[1]"}

    [listed] = await busy(stack, {first, second})
    assert [(d["id"], d["run_id"]) for d in listed["devices"]] in (
        [("0", first), ("1", second)],
        [("0", second), ("1", first)],
    )
    assert listed["capacity"]["gpu"] == 2
    assert gpus(listed).splitlines() == [
        f"{d['id']}: busy (run {d['run_id']})" for d in listed["devices"]
    ]

    third = await gpu_run(stack, 1)
    none = await gpu_run(stack, 0)
    assert await seen(stack, none) == "cuda=[]"  # placed and running while the third waits

    async def waits() -> dict[str, Any] | None:
        run = (await stack.http.get(f"/v1/runs/{third}")).json()
        return run if run["reason"].startswith("waiting for gpu") else None

    waiting = await eventually(waits, timeout=30)
    assert waiting["state"] == "pending"  # type: ignore[index]
    assert waiting["reason"] == "waiting for gpu=1: phoenix has 0 free of 2"  # type: ignore[index]

    ended = await abort(stack, first)  # its device is free once it has ended
    assert ended["devices"] in (["0"], ["1"])
    assert await seen(stack, third) == f"cuda=[{ended['devices'][0]}]"
    for run_id in (second, third, none):
        await abort(stack, run_id)


async def test_after_the_executor_is_killed_and_back_its_dead_runs_devices_are_free(
    scheduler_side: Stack, start: Any, nats_url: str, tmp_path: Path
) -> None:
    stack, home = scheduler_side, tmp_path / "executor"
    first = start(home)
    held = [await gpu_run(stack, 1), await gpu_run(stack, 1)]
    for run_id in held:
        await seen(stack, run_id)
    second = start(home, standby=True)
    await on_standby(home)

    kill(first)
    go(second)
    await back(nats_url)
    for run_id in held:
        assert (await wait_run(stack.http, run_id, timeout=60))["state"] == "failed"
    await busy(stack, set())  # the new life's heartbeat: both free

    again = [await gpu_run(stack, 1), await gpu_run(stack, 1)]
    assert {await seen(stack, run_id) for run_id in again} == {"cuda=[0]", "cuda=[1]"}
    for run_id in again:
        await abort(stack, run_id)
