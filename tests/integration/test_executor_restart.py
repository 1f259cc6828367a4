"""Chaos: an executor process killed (SIGKILL), frozen (SIGSTOP) or gone in the middle of a
run, with the scheduler and gateway on SQLite and PostgreSQL. No run stays `running`, and
no process of a run outlives it."""

import asyncio
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import nats
import psutil
import pytest

from services.executor.settings import ExecutorSettings
from tests.conftest import eventually
from tests.integration.conftest import Stack, submit, wait_run
from tests.integration.processes import answers, go, none_left, processes_of, start_service

HEARTBEAT_S = 0.5
WITHIN = 3 * HEARTBEAT_S  # from the executor's return to the run's final state
EXECUTOR = "phoenix"


Start = Callable[[Path], subprocess.Popen[bytes]]


@pytest.fixture
def executor(nats_url: str) -> Iterator[Start]:
    """Starts the executor `phoenix` in a home, or has it wait on standby to replace one that
    is killed within a second or two, as the embedded stack's supervisor does."""
    started: list[subprocess.Popen[bytes]] = []

    def start(
        home: Path, *, standby: bool = False, sandbox: bool = False
    ) -> subprocess.Popen[bytes]:
        process = start_service(
            "executor",
            home,
            standby=standby,
            nats_url=nats_url,
            executor_id=EXECUTOR,
            heartbeat_s=HEARTBEAT_S,
            stop_grace_s=1,
            # Unsandboxed unless asked: a run outlives a killed executor, and its next life
            # must find and kill it. A sandboxed run dies with the executor.
            local_sandbox=sandbox,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            process.wait(20)


@pytest.fixture
def run_processes() -> Iterator[Callable[[str], list[psutil.Process]]]:
    """`processes_of`, and whatever a test left of its runs is killed at its end."""
    seen: set[str] = set()

    def of(run_id: str) -> list[psutil.Process]:
        seen.add(run_id)
        return processes_of(run_id)

    yield of
    for run_id in seen:
        for process in processes_of(run_id):
            process.kill()


async def back(nats_url: str) -> float:
    """Wait until the executor answers (it has started), then the loop's time."""
    client = await nats.connect(nats_url)
    try:
        await eventually(lambda: answers(client, "executor"), timeout=60)
    finally:
        await client.close()
    return asyncio.get_running_loop().time()


async def running_with_processes(
    stack: Stack,
    command: list[str],
    run_processes: Callable[[str], list[psutil.Process]],
    count: int = 1,
) -> str:
    """Submit the command; its run id once it runs `count` processes."""
    run_id = await submit(stack.http, command=command)
    await wait_run(stack.http, run_id, ("running",), timeout=60)

    async def started() -> bool:
        return len(run_processes(run_id)) == count

    await eventually(started)
    return run_id


async def on_standby(home: Path) -> None:
    """Wait until the executor on standby in `home` has imported what it runs."""

    async def imported() -> bool:
        return (home / f"{EXECUTOR}.standby").exists()

    await eventually(imported, timeout=60)


def kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(10)


async def test_a_run_whose_executor_is_killed_ends_when_it_is_back_and_leaves_no_process(
    scheduler_side: Stack, executor: Start, nats_url: str, tmp_path: Path, run_processes
) -> None:  # type: ignore[no-untyped-def]
    stack, home = scheduler_side, tmp_path / "executor"
    first = executor(home)
    script = "setsid sleep 300 & sleep 300"  # a child out of the group as well
    run_id = await running_with_processes(stack, ["sh", "-c", script], run_processes, 3)
    second = executor(home, standby=True)
    await on_standby(home)

    kill(first)
    assert len(run_processes(run_id)) == 3  # orphaned, still running
    go(second)
    returned = await back(nats_url)
    run = await wait_run(stack.http, run_id, timeout=WITHIN + 10)
    took = asyncio.get_running_loop().time() - returned

    assert run["state"] == "failed"
    assert run["reason"].startswith("the executor restarted and lost the run; killed ")
    assert run["reason"].count("sleep[") == 2
    assert run["reason"].count("sh[") == 1
    assert took < WITHIN, f"{took:.2f} s after the executor was back"
    await none_left(run_id, timeout=5)
    work_dirs = ExecutorSettings(home=home).work_dirs()
    kept = work_dirs / run_id / "attempt-1" / ".ended"
    assert kept.exists()  # kept as a failed run's dir, then swept


async def test_an_executor_back_without_its_work_dirs_has_its_lost_run_failed_by_heartbeat(
    scheduler_side: Stack, executor: Start, nats_url: str, tmp_path: Path, run_processes
) -> None:  # type: ignore[no-untyped-def]
    """Nothing tells the new executor about the old run: only its heartbeats, which do
    not list it, show the scheduler that it was lost."""
    stack = scheduler_side
    first = executor(tmp_path / "old-machine")
    run_id = await running_with_processes(stack, ["sleep", "300"], run_processes)
    second = executor(tmp_path / "new-machine", standby=True)
    await on_standby(tmp_path / "new-machine")

    kill(first)
    go(second)
    returned = await back(nats_url)
    run = await wait_run(stack.http, run_id, timeout=WITHIN + 10)
    took = asyncio.get_running_loop().time() - returned

    assert (run["state"], run["reason"]) == ("failed", "the executor restarted and lost the run")
    assert took < WITHIN, f"{took:.2f} s after the executor was back"
    later = await submit(stack.http, command=["true"])  # the lost run's slot is free again
    assert (await wait_run(stack.http, later, timeout=20))["state"] == "completed"


async def test_a_run_the_scheduler_ended_is_stopped_when_its_executor_says_it_still_runs_it(
    scheduler_side: Stack, executor: Start, tmp_path: Path, run_processes
) -> None:  # type: ignore[no-untyped-def]
    stack = scheduler_side
    frozen = executor(tmp_path / "executor")
    run_id = await running_with_processes(stack, ["sleep", "300"], run_processes)

    frozen.send_signal(signal.SIGSTOP)  # no heartbeat for a while: it is declared lost
    try:
        run = await wait_run(stack.http, run_id, timeout=20)
    finally:
        frozen.send_signal(signal.SIGCONT)
    assert (run["state"], run["reason"]) == ("failed", "executor lost")
    assert run_processes(run_id)  # the thawed executor still runs it, and lists it

    await none_left(run_id, timeout=10)
    assert (await stack.http.get(f"/v1/runs/{run_id}")).json()["reason"] == "executor lost"


@pytest.mark.parametrize("fate", ["gone", "back without its work dirs"])
async def test_aborting_a_run_whose_executor_is_gone_aborts_it_saying_the_executor_did_not_answer(
    scheduler_side: Stack, executor: Start, nats_url: str, tmp_path: Path, run_processes, fate
) -> None:  # type: ignore[no-untyped-def]
    stack = scheduler_side
    first = executor(tmp_path / "old-machine")
    run_id = await running_with_processes(stack, ["sleep", "300"], run_processes)
    second = executor(tmp_path / "new-machine", standby=True)
    await on_standby(tmp_path / "new-machine")

    kill(first)
    response = await stack.http.post(f"/v1/runs/{run_id}/abort")
    assert response.status_code == 202
    why = "executor lost"
    if fate != "gone":
        go(second)
        await back(nats_url)
        why = "the executor restarted and lost the run"
    run = await wait_run(stack.http, run_id, timeout=20)

    assert run["state"] == "aborted"
    assert run["reason"] == f"aborted by user; the executor did not answer: {why}"


async def test_a_sandboxed_run_dies_with_its_killed_executor_and_ends_when_it_is_back(
    scheduler_side: Stack, executor: Start, nats_url: str, tmp_path: Path, run_processes
) -> None:  # type: ignore[no-untyped-def]
    stack, home = scheduler_side, tmp_path / "executor"
    first = executor(home, sandbox=True)
    run_id = await submit(stack.http, command=["sh", "-c", "setsid sleep 300 & sleep 300"])
    await wait_run(stack.http, run_id, ("running",), timeout=60)

    async def started() -> bool:
        return len(run_processes(run_id)) >= 3  # bubblewrap, sh and the sleeps

    await eventually(started)
    second = executor(home, standby=True, sandbox=True)
    await on_standby(home)

    kill(first)
    await none_left(run_id, timeout=5)  # bubblewrap's --die-with-parent: all of it went
    go(second)
    returned = await back(nats_url)
    run = await wait_run(stack.http, run_id, timeout=WITHIN + 10)
    took = asyncio.get_running_loop().time() - returned

    assert run["state"] == "failed"
    assert run["reason"].startswith("the executor restarted and lost the run")
    assert took < WITHIN, f"{took:.2f} s after the executor was back"
