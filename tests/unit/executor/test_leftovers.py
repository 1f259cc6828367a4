"""What a previous life of the executor left: attempts begun and never ended, and their
processes, found by their run's variables or by the recorded process group."""

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from services.executor import leftovers
from services.executor.leftovers import Leftover, LiveAttempts


@pytest.fixture
def spawned() -> Iterator[list[subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:  # not killed (and reaped) by the test
            process.kill()
            process.wait()


def test_attempts_begun_and_not_ended_are_unfinished(tmp_path: Path) -> None:
    live = LiveAttempts(tmp_path / "live")
    assert live.unfinished() == []
    live.begin("r1", 1)
    live.begin("r2", 1)
    live.end("r2", 1)
    live.begin("r.3", 2)
    (tmp_path / "live" / "r4.1.json").write_text("")  # cut short by a kill while written

    assert live.unfinished() == [Leftover("r.3", 2), Leftover("r1", 1), Leftover("r4", 1)]


def test_an_attempt_that_started_has_its_process_recorded(
    tmp_path: Path, spawned: list[subprocess.Popen[bytes]]
) -> None:
    live = LiveAttempts(tmp_path / "live")
    spawned.append(leader := subprocess.Popen(["sleep", "60"], start_new_session=True))
    live.begin("r1", 1)
    live.started("r1", 1, leader.pid)

    (found,) = live.unfinished()
    started = psutil.Process(leader.pid).create_time()
    assert found == Leftover("r1", 1, {"pid": leader.pid, "pgid": leader.pid, "started": started})


def test_the_processes_of_a_leftover_attempt_are_found_by_its_variables_and_killed(
    spawned: list[subprocess.Popen[bytes]],
) -> None:
    run_id = uuid.uuid4().hex
    for n in (1, 2):
        env = {"PATH": "/usr/bin:/bin", "BOXOPS_RUN_ID": run_id, "BOXOPS_ATTEMPT": str(n)}
        spawned.append(subprocess.Popen(["sleep", "60"], env=env))
    earlier, leftover = spawned

    killed = leftovers.kill(Leftover(run_id, 2))

    assert killed == [f"sleep[{leftover.pid}]"]
    assert not psutil.pid_exists(leftover.pid)  # killed and reaped
    assert earlier.poll() is None  # another attempt's process: not this leftover's


def test_the_recorded_group_finds_processes_that_lost_their_variables(
    tmp_path: Path, spawned: list[subprocess.Popen[bytes]]
) -> None:
    run_id = uuid.uuid4().hex
    live = LiveAttempts(tmp_path / "live")
    script = "env -i /bin/sleep 60 & echo started; wait"
    env = {"PATH": "/usr/bin:/bin", "BOXOPS_RUN_ID": run_id, "BOXOPS_ATTEMPT": "1"}
    leader = subprocess.Popen(
        ["sh", "-c", script], env=env, start_new_session=True, stdout=subprocess.PIPE
    )
    spawned.append(leader)
    assert leader.stdout and leader.stdout.readline() == b"started\n"
    live.started(run_id, 1, leader.pid)
    (child,) = psutil.Process(leader.pid).children()

    (leftover,) = live.unfinished()
    killed = leftovers.kill(leftover)

    assert sorted(killed) == sorted([f"sh[{leader.pid}]", f"sleep[{child.pid}]"])
    assert not psutil.pid_exists(leader.pid)  # killed and reaped
    assert not psutil.pid_exists(child.pid) or child.status() == psutil.STATUS_ZOMBIE
