"""What an executor's previous life left behind.

An attempt's work dir carries a `live` mark from its dispatch to its end report, and once
its process started, `process.json` (pid, process group, start time). An executor that
starts and finds a live mark was stopped without ending that attempt (SIGKILL, a crash, a
lost machine): it kills what still runs of the attempt and reports it lost.
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path

import psutil

from services.executor import reaper

LIVE = "live"
PROCESS = "process.json"


@dataclass(frozen=True)
class Leftover:
    run_id: str
    attempt: int
    root: Path


def mark_live(root: Path) -> None:
    (root / LIVE).touch()


def mark_ended(root: Path) -> None:
    (root / LIVE).unlink(missing_ok=True)


def record_process(root: Path, pid: int) -> None:
    """Written once the run's process started: what a later life needs to find it."""
    try:
        record = {"pid": pid, "pgid": os.getpgid(pid), "started": psutil.Process(pid).create_time()}
    except (OSError, psutil.Error):
        return  # it has ended already: nothing of it to find later through its leader
    (root / PROCESS).write_text(json.dumps(record))


def unfinished(workdirs: Path) -> list[Leftover]:
    """The attempts under `workdirs` (RUN/attempt-N) still marked live."""
    found = []
    for mark in sorted(workdirs.glob(f"*/attempt-*/{LIVE}")):
        root = mark.parent
        attempt = root.name.removeprefix("attempt-")
        if attempt.isdigit():
            found.append(Leftover(root.parent.name, int(attempt), root))
    return found


def kill(leftover: Leftover) -> list[str]:
    """Kill whatever still runs of the attempt; what was killed, as `name[pid]`."""
    belongs = reaper.of_run(leftover.run_id, leftover.attempt)
    group = _group(leftover.root)
    found = [
        process
        for process in psutil.process_iter()
        if process.pid != os.getpid() and (belongs(process) or _in_group(process, group))
    ]
    return reaper.kill(found)


def _group(root: Path) -> int | None:
    """The recorded process group, if its leader is still the process that was recorded
    (not a later one that got its pid)."""
    try:
        record = json.loads((root / PROCESS).read_text())
        same = psutil.Process(record["pid"]).create_time() == record["started"]
    except (OSError, ValueError, KeyError, psutil.Error):
        return None
    return int(record["pgid"]) if same else None


def _in_group(process: psutil.Process, group: int | None) -> bool:
    if group is None:
        return False
    try:
        return os.getpgid(process.pid) == group
    except OSError:
        return False
