"""The local backend signals a run's process group only while the run's leader is not
reaped: until then the group's id (the leader's pid) cannot be another process's."""

import asyncio
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from services.executor import reaper
from services.executor.backends import Launch
from services.executor.backends.local import LocalBackend
from services.executor.contract import Layout

LAST_PID = Path("/proc/sys/kernel/ns_last_pid")


@pytest.fixture
def with_pid() -> Iterator[object]:
    """Starts `sleep` in a session (and group) of its own under a given pid, as a process
    the kernel gave a reaped leader's pid to would be; killed at the test's end."""
    if not os.access(LAST_PID, os.W_OK):
        pytest.skip("choosing a pid needs root")
    started: list[subprocess.Popen[bytes]] = []

    def start(pid: int) -> subprocess.Popen[bytes]:
        for _ in range(100):  # another process may take the pid first: again
            LAST_PID.write_text(str(pid - 1))
            process = subprocess.Popen(["sleep", "300"], start_new_session=True)
            started.append(process)
            if process.pid == pid:
                return process
            process.kill()
        raise AssertionError(f"could not start a process as pid {pid}")

    yield start
    for process in started:
        process.kill()
        process.wait()


async def test_the_group_is_killed_before_the_leader_is_reaped_and_never_signalled_after(
    tmp_path: Path, with_pid
) -> None:  # type: ignore[no-untyped-def]
    assert reaper.become_subreaper()  # as the executor: the orphaned child is found and reaped
    (tmp_path / "work").mkdir()
    host = Layout(tmp_path)
    launch = Launch(
        run_id="r1",
        command=["sh", "-c", "sleep 300 & echo $!"],  # its child stays in its group
        env={"BOXOPS_ATTEMPT": "1"},
        host=host,
    )
    run = await LocalBackend(sandbox=None).start(launch)
    printed: list[bytes] = []
    streaming = asyncio.create_task(run.stream(lambda _, data: printed.append(data)))

    assert await run.wait() == 0
    await asyncio.wait_for(streaming, 10)  # the child held the pipes: it is dead
    child = int(b"".join(printed).decode().split()[0])
    assert not psutil.pid_exists(child)  # killed and reaped: its group's id is free

    assert run.pid is not None
    stranger = with_pid(run.pid)  # the reaped leader's pid, and its group id, reused
    await run.terminate(grace_s=0.5)
    await run.cleanup()
    assert stranger.poll() is None, "a signal reached the group of a process the run never had"
