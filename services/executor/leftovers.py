"""What an executor's previous life left behind.

The executor keeps one file per live attempt in a folder of its own state (not in the
attempt's dir, which the run can write to): from the dispatch to the end report, with the
attempt's process (pid, process group, start time) once it started. An executor that
starts and finds such a file was stopped without ending that attempt (SIGKILL, a crash, a
lost machine): it kills what still runs of the attempt and reports it lost. An attempt on
a remote backend (a Ray Job) keeps its dispatch in that file instead: the next life attaches
to it again, as it goes on without the executor.
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from services.executor import reaper


@dataclass(frozen=True)
class Leftover:
    run_id: str
    attempt: int
    process: dict[str, Any] | None = None  # pid, pgid, started (its create time)
    dispatch: str | None = None  # a remote attempt's RunDispatched (JSON), to attach to


@dataclass(frozen=True)
class LiveAttempts:
    folder: Path

    def begin(self, run_id: str, attempt: int, dispatch: str | None = None) -> None:
        self._write(Leftover(run_id, attempt, dispatch=dispatch))

    def started(self, run_id: str, attempt: int, pid: int) -> None:
        """Once its process started: what a later life needs to find it."""
        try:
            started = psutil.Process(pid).create_time()
            process = {"pid": pid, "pgid": os.getpgid(pid), "started": started}
        except (OSError, psutil.Error):
            return  # it has ended already: nothing of it to find through its leader
        self._write(Leftover(run_id, attempt, process))

    def end(self, run_id: str, attempt: int) -> None:
        self._file(run_id, attempt).unlink(missing_ok=True)

    def unfinished(self) -> list[Leftover]:
        """The attempts a previous life began and never ended."""
        if not self.folder.is_dir():
            return []
        return [
            leftover for path in sorted(self.folder.glob("*.json")) if (leftover := _read(path))
        ]

    def _file(self, run_id: str, attempt: int) -> Path:
        return self.folder / f"{run_id}.{attempt}.json"

    def _write(self, leftover: Leftover) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        record = {"run_id": leftover.run_id, "attempt": leftover.attempt}
        if leftover.process:
            record["process"] = leftover.process
        if leftover.dispatch:
            record["dispatch"] = leftover.dispatch
        self._file(leftover.run_id, leftover.attempt).write_text(json.dumps(record))


def _read(path: Path) -> Leftover | None:
    try:
        return Leftover(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):  # cut short by the kill: what its name says
        run_id, _, attempt = path.stem.rpartition(".")
        return Leftover(run_id, int(attempt)) if run_id and attempt.isdigit() else None


def kill(leftover: Leftover) -> list[str]:
    """Kill whatever still runs of the attempt; what was killed, as `name[pid]`."""
    belongs = reaper.of_run(leftover.run_id, leftover.attempt)
    group = _group(leftover.process)
    found = [
        process
        for process in psutil.process_iter()
        if process.pid != os.getpid() and (belongs(process) or _in_group(process, group))
    ]
    return reaper.kill(found)


def _group(process: dict[str, Any] | None) -> int | None:
    """The recorded process group, if its leader is still the process that was recorded
    (not a later one that got its pid)."""
    if not process:
        return None
    try:
        same = psutil.Process(process["pid"]).create_time() == process["started"]
    except (KeyError, psutil.Error):
        return None
    return int(process["pgid"]) if same else None


def _in_group(process: psutil.Process, group: int | None) -> bool:
    if group is None:
        return False
    try:
        return os.getpgid(process.pid) == group
    except OSError:
        return False
