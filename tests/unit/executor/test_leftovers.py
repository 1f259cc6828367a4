"""What a previous life of the executor left: attempts still marked live in the work dirs,
and their processes, found by their run's variables or by the recorded process group."""

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from services.executor import leftovers
from services.executor.leftovers import Leftover


@pytest.fixture
def spawned() -> Iterator[list[subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:  # not killed (and reaped) by the test
            process.kill()
            process.wait()


def attempt(workdirs: Path, run_id: str, n: int) -> Path:
    root = workdirs / run_id / f"attempt-{n}"
    root.mkdir(parents=True)
    return root


def test_attempts_still_marked_live_are_unfinished(tmp_path: Path) -> None:
    leftovers.mark_live(attempt(tmp_path, "r1", 1))
    leftovers.mark_live(ended := attempt(tmp_path, "r2", 1))
    leftovers.mark_ended(ended)
    attempt(tmp_path, "r3", 1)  # from before attempts were marked: nothing to say
    leftovers.mark_live(attempt(tmp_path, "r4", 2))

    assert leftovers.unfinished(tmp_path) == [
        Leftover("r1", 1, tmp_path / "r1" / "attempt-1"),
        Leftover("r4", 2, tmp_path / "r4" / "attempt-2"),
    ]
    assert leftovers.unfinished(tmp_path / "none-yet") == []


def test_the_processes_of_a_leftover_attempt_are_found_by_its_variables_and_killed(
    tmp_path: Path, spawned: list[subprocess.Popen[bytes]]
) -> None:
    run_id = uuid.uuid4().hex
    for n in (1, 2):
        env = {"PATH": "/usr/bin:/bin", "BOXOPS_RUN_ID": run_id, "BOXOPS_ATTEMPT": str(n)}
        spawned.append(subprocess.Popen(["sleep", "60"], env=env))
    earlier, leftover = spawned

    killed = leftovers.kill(Leftover(run_id, 2, attempt(tmp_path, run_id, 2)))

    assert killed == [f"sleep[{leftover.pid}]"]
    assert not psutil.pid_exists(leftover.pid)  # killed and reaped
    assert earlier.poll() is None  # another attempt's process: not this leftover's


def test_the_recorded_group_finds_processes_that_lost_their_variables(
    tmp_path: Path, spawned: list[subprocess.Popen[bytes]]
) -> None:
    run_id = uuid.uuid4().hex
    root = attempt(tmp_path, run_id, 1)
    script = "env -i /bin/sleep 60 & echo started; wait"
    env = {"PATH": "/usr/bin:/bin", "BOXOPS_RUN_ID": run_id, "BOXOPS_ATTEMPT": "1"}
    leader = subprocess.Popen(
        ["sh", "-c", script], env=env, start_new_session=True, stdout=subprocess.PIPE
    )
    spawned.append(leader)
    assert leader.stdout and leader.stdout.readline() == b"started\n"
    leftovers.record_process(root, leader.pid)
    (child,) = psutil.Process(leader.pid).children()

    killed = leftovers.kill(Leftover(run_id, 1, root))

    assert sorted(killed) == sorted([f"sh[{leader.pid}]", f"sleep[{child.pid}]"])
    assert not psutil.pid_exists(leader.pid)  # killed and reaped
    assert not psutil.pid_exists(child.pid) or child.status() == psutil.STATUS_ZOMBIE
