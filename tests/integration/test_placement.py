"""Placement across real executor processes with different capacities and labels."""

import signal
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.conftest import eventually
from tests.integration.conftest import Stack, start_stack, stop_stack, submit, wait_run
from tests.integration.processes import start_service


@pytest.fixture
async def scheduler_only(nats_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    """Scheduler and gateway in this process; executors come as processes."""
    db = (f"sqlite+aiosqlite:///{tmp_path / 'scheduler.db'}", "main")
    stack = await start_stack(nats_url, db, tmp_path / "home", with_executor=False)
    yield stack
    await stop_stack(stack)


@pytest.fixture
def executors(nats_url: str, tmp_path: Path) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    started: dict[str, subprocess.Popen[bytes]] = {}

    def start(executor_id: str, **capacity: object) -> subprocess.Popen[bytes]:
        started[executor_id] = start_service(
            "executor",
            tmp_path / executor_id,
            nats_url=nats_url,
            executor_id=executor_id,
            **capacity,
        )
        return started[executor_id]

    yield start  # type: ignore[misc]
    for process in started.values():
        if process.poll() is None:
            process.terminate()
            process.wait(20)


async def executor_of(stack: Stack, run_id: str) -> str:
    run = await wait_run(stack.http, run_id)
    assert run["state"] == "completed", run
    return str(run["executor_id"])


async def reason_of(stack: Stack, run_id: str, prefix: str) -> str:
    async def check() -> str | None:
        reason = (await stack.http.get(f"/v1/runs/{run_id}")).json().get("reason", "")
        return reason if reason.startswith(prefix) else None

    return str(await eventually(check, timeout=20))


async def test_runs_go_to_executors_that_fit_and_wait_for_one_that_appears(
    scheduler_only: Stack, executors
) -> None:  # type: ignore[no-untyped-def]
    stack = scheduler_only
    executors("small", cpu=1, memory_mb=1024, slots=2, labels={"size": "small"})
    executors("big", cpu=8, memory_mb=16384, gpu=1, slots=4, labels={"size": "big"})

    needs_cpu = await submit(stack.http, command=["true"], resources={"cpu": 4})
    needs_gpu = await submit(stack.http, command=["true"], resources={"gpu": 1, "cpu": 1})
    small_only = await submit(stack.http, command=["true"], selector={"size": "small"})
    assert await executor_of(stack, needs_cpu) == "big"
    assert await executor_of(stack, needs_gpu) == "big"
    assert await executor_of(stack, small_only) == "small"

    two_gpus = await submit(stack.http, command=["true"], resources={"gpu": 2})
    in_us = await submit(stack.http, command=["true"], selector={"zone": "us"})
    assert await reason_of(stack, two_gpus, "needs") == (
        "needs gpu=2; the most any executor has is 1"
    )
    assert await reason_of(stack, in_us, "needs") == "needs labels zone=us; no executor has them"

    executors("us-1", cpu=2, labels={"zone": "us"})
    assert await executor_of(stack, in_us) == "us-1"
    assert (await stack.http.get(f"/v1/runs/{two_gpus}")).json()["state"] == "pending"


async def test_a_busy_executor_queues_runs_by_priority(scheduler_only: Stack, executors) -> None:  # type: ignore[no-untyped-def]
    stack = scheduler_only
    blocker = await submit(stack.http, command=["sleep", "1"], selector={"only": "one"})
    low = await submit(stack.http, command=["true"], selector={"only": "one"}, priority=0)
    high = await submit(stack.http, command=["true"], selector={"only": "one"}, priority=5)
    await reason_of(stack, low, "waiting for an executor")
    executors("one", cpu=1, slots=1, labels={"only": "one"})

    runs = [await wait_run(stack.http, r) for r in (blocker, low, high)]
    started = {
        run["id"]: next(t["at"] for t in run["history"] if t["state"] == "running") for run in runs
    }
    assert started[high] < started[low]


async def test_an_executor_that_dies_has_its_runs_failed_as_lost(
    scheduler_only: Stack, executors
) -> None:  # type: ignore[no-untyped-def]
    stack = scheduler_only
    doomed = executors("doomed", cpu=2, labels={"fate": "doomed"})
    run_id = await submit(stack.http, command=["sleep", "60"], selector={"fate": "doomed"})
    await wait_run(stack.http, run_id, ("running",))

    doomed.send_signal(signal.SIGKILL)
    run = await wait_run(stack.http, run_id, timeout=15)
    assert run["state"] == "failed"
    assert run["history"][-1]["reason"] == "executor lost"
