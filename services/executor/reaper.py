"""Finding and killing what a run left running.

The executor is the child subreaper of its runs (prctl PR_SET_CHILD_SUBREAPER): a process
whose parent exits is re-parented to the executor rather than to init, even one that left
its run's process group and session with setsid. When a run's leader exits, whatever of the
run still runs is among the executor's own children, without cgroup v2. A run's processes
are told apart by the session its leader started and the BOXOPS_RUN_ID they inherited.
"""

import contextlib
import ctypes
import logging
import os
import time
from collections.abc import Callable, Collection, Iterable

import psutil

log = logging.getLogger(__name__)
PR_SET_CHILD_SUBREAPER = 36
ROUNDS = 20  # a killed process's own children are adopted in turn, a generation a round
REAP_S = 5.0


def become_subreaper() -> bool:
    """Adopt the orphans among this process's descendants; False where the kernel cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):  # not Linux
        return False


def of_run(run_id: str, attempt: int) -> Callable[[psutil.Process], bool]:
    """Whether a process belongs to the run's attempt, by the variables it inherited."""
    wanted = {"BOXOPS_RUN_ID": run_id, "BOXOPS_ATTEMPT": str(attempt)}

    def belongs(process: psutil.Process) -> bool:
        try:
            env = process.environ()
        except psutil.Error:  # gone, a zombie, or not ours to read
            return False
        return all(env.get(name) == value for name, value in wanted.items())

    return belongs


def kill_left_behind(belongs: Callable[[psutil.Process], bool], *, session: int) -> list[str]:
    """Kill and reap the run's processes among this process's children; as `name[pid]`.
    `session`: the run leader's (its own pid), shared by all that did not leave it."""
    killed: list[str] = []
    for _ in range(ROUNDS):
        found = [
            child
            for child in psutil.Process().children()
            if child.pid != session and (_in_session(child, session) or belongs(child))
        ]
        if not found:
            break
        killed += kill(found)
    return killed


def reap_adopted(keep: Collection[int]) -> None:
    """Reap the zombies among this process's children that it adopted as the runs'
    subreaper: those in another session than its own (a run's, or one an escaped process
    made with setsid), except the run leaders in `keep`, each reaped by its run. The
    children it started itself (asyncio's, subprocess's) share its session and are left to
    whoever waits for them: their exit status is theirs."""
    own = os.getsid(0)
    for child in psutil.Process().children():
        with contextlib.suppress(psutil.Error, OSError):  # gone, or reaped by another
            if child.pid in keep or child.status() != psutil.STATUS_ZOMBIE:
                continue
            if os.getsid(child.pid) != own:
                os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOHANG)


def kill(processes: Iterable[psutil.Process]) -> list[str]:
    """SIGKILL each living one and wait until all are dead; as `name[pid]`."""
    processes = list(processes)
    killed = []
    for process in processes:
        with contextlib.suppress(psutil.Error):
            if process.status() != psutil.STATUS_ZOMBIE:
                name = process.name()
                process.kill()
                killed.append(f"{name}[{process.pid}]")
    deadline = time.monotonic() + REAP_S
    while processes := [p for p in processes if not _dead(p)]:
        if time.monotonic() > deadline:
            log.warning("still alive after SIGKILL: %s", [p.pid for p in processes])
            break
        time.sleep(0.01)
    return killed


def _dead(process: psutil.Process) -> bool:
    """Gone, or a zombie: reaped if it is this process's child (adopted, so not one that
    asyncio waits for); another's zombie is its parent's to reap."""
    try:
        if process.status() != psutil.STATUS_ZOMBIE:
            return False
        if process.ppid() == os.getpid():
            os.waitpid(process.pid, os.WNOHANG)
    except (psutil.NoSuchProcess, ChildProcessError):
        pass
    return True


def _in_session(process: psutil.Process, session: int) -> bool:
    try:
        return os.getsid(process.pid) == session
    except OSError:
        return False
