"""A run ends when its leader exits, even when a child escaped its process group and session
with setsid (and holds the output pipes open). Unsandboxed, what it left is found, killed and
named; in the local sandbox (the default) it dies with the run's process namespace."""

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import psutil
import pytest

from services.executor import reaper
from tests.conftest import eventually
from tests.integration.conftest import Stack, submit, wait_run
from tests.integration.executor_harness import Harness, start_harness
from tests.integration.processes import none_left, processes_of

ESCAPE = "setsid sleep 334 & echo escaped $!; sleep 1; echo done"


@pytest.fixture
async def local(nats_url: str, tmp_path: Path) -> AsyncIterator[Harness]:
    """Unsandboxed: the executor itself finds what a run left behind."""
    harness = await start_harness("local", nats_url, tmp_path / "home", local_sandbox=False)
    yield harness
    await harness.service.stop()
    await harness.client.close()


@pytest.fixture
async def sandboxed(nats_url: str, tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await start_harness("local", nats_url, tmp_path / "home", local_sandbox=True)
    yield harness
    await harness.service.stop()
    await harness.client.close()


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def test_a_run_ends_when_its_leader_exits_and_its_escaped_child_is_killed(
    local: Harness,
) -> None:
    run_id = await local.dispatch(["sh", "-c", ESCAPE])
    await local.printed(run_id, "done")
    loop = asyncio.get_running_loop()
    leader_done = loop.time()
    ended = await local.ended(run_id, timeout=30)

    assert loop.time() - leader_done < 3
    escaped = int(next(line for line in local.output(run_id) if line.startswith("escaped"))[8:])
    assert ended.exit_code == 0
    assert ended.reason == f"exit code 0; killed what it left running: sleep[{escaped}]"
    assert gone(escaped)
    assert not processes_of(run_id)


async def test_in_the_sandbox_an_escaped_child_dies_with_the_run(sandboxed: Harness) -> None:
    run_id = await sandboxed.dispatch(["sh", "-c", ESCAPE])
    await sandboxed.printed(run_id, "done")
    loop = asyncio.get_running_loop()
    leader_done = loop.time()
    ended = await sandboxed.ended(run_id, timeout=30)

    assert loop.time() - leader_done < 3
    assert ended.exit_code == 0
    assert ended_with_namespace_or_named(ended.reason)
    await none_left(run_id, timeout=5)


def ended_with_namespace_or_named(reason: str) -> bool:
    """In the sandbox, bwrap's end takes the escaped child with the namespace; the executor,
    looking at the same moment, may still see it and name it."""
    return reason == "exit code 0" or reason.startswith(
        "exit code 0; killed what it left running: sleep["
    )


async def test_a_run_that_leaves_nothing_behind_says_only_its_exit_code(local: Harness) -> None:
    run_id = await local.dispatch(["sh", "-c", "sleep 0.1 & wait; exit 3"])
    ended = await local.ended(run_id)
    assert (ended.exit_code, ended.reason) == (3, "exit code 3")


async def test_an_escaped_child_that_ended_before_its_run_is_not_left_a_zombie(
    local: Harness,
) -> None:
    """Its parent gone, it was the executor's (the subreaper's) child: reaped at the run's
    end, not kept as a zombie until the executor exits."""
    script = "(setsid sleep 0.2 & echo escaped $!); sleep 2; echo done"
    run_id = await local.dispatch(["sh", "-c", script])
    ended = await local.ended(run_id, timeout=30)

    escaped = int(next(line for line in local.output(run_id) if line.startswith("escaped"))[8:])
    assert ended.reason == "exit code 0"
    assert not psutil.pid_exists(escaped)


async def test_orphans_are_reaped_but_not_the_executors_own_children_nor_run_leaders() -> None:
    """Their exit status is for whoever waits for them: asyncio, subprocess, the run."""
    assert reaper.become_subreaper()
    own = subprocess.Popen(["sh", "-c", "exit 3"])  # noqa: ASYNC220 (the executor's session)
    leader = subprocess.Popen(["sh", "-c", "exit 4"], start_new_session=True)  # noqa: ASYNC220

    async def both_ended() -> bool:
        return all(_zombie(p.pid) for p in (own, leader))

    await eventually(both_ended)
    reaper.reap_adopted(keep={leader.pid})
    assert (own.wait(5), leader.wait(5)) == (3, 4)


def _zombie(pid: int) -> bool:
    return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


async def test_the_issues_setsid_run_completes_within_seconds_naming_what_was_killed(
    stack: Stack,
) -> None:
    loop = asyncio.get_running_loop()
    submitted = loop.time()
    run_id = await submit(stack.http, command=["sh", "-c", "setsid sleep 334 & sleep 1; echo done"])
    run = await wait_run(stack.http, run_id, timeout=30)

    assert loop.time() - submitted < 10
    assert run["state"] == "completed"
    # The stack's local runs are sandboxed: the escaped sleep ends with their namespace.
    assert ended_with_namespace_or_named(run["reason"])
    await none_left(run_id, timeout=5)
