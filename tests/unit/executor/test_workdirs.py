"""Which kept work dirs a sweep removes, and what removing one leaves."""

import os
from pathlib import Path

from services.executor import workdirs


def _attempt(root: Path, run_id: str, attempt: int, ended_at: float | None) -> Path:
    folder = root / run_id / f"attempt-{attempt}"
    (folder / "work").mkdir(parents=True)
    (folder / "work" / "file").write_text("x")
    if ended_at is not None:
        workdirs.keep(folder)
        os.utime(folder / workdirs.ENDED, (ended_at, ended_at))
    return folder


def test_a_sweep_removes_kept_dirs_past_their_time_only(tmp_path: Path) -> None:
    old = _attempt(tmp_path, "a", 1, ended_at=1000.0)
    recent = _attempt(tmp_path, "b", 1, ended_at=1950.0)
    running = _attempt(tmp_path, "c", 1, ended_at=None)

    assert workdirs.sweep(tmp_path, now=2000.0, keep_s=100.0) == [old]

    assert not (tmp_path / "a").exists()  # the run's folder too, its last attempt gone
    assert recent.is_dir() and running.is_dir()


def test_removing_one_attempt_keeps_the_run_folder_of_another(tmp_path: Path) -> None:
    first = _attempt(tmp_path, "r", 1, ended_at=None)
    second = _attempt(tmp_path, "r", 2, ended_at=None)

    workdirs.remove_workdir(first)
    workdirs.remove_workdir(tmp_path / "r" / "attempt-9")  # already gone: nothing to do

    assert not first.exists() and second.is_dir()


def test_a_kept_dir_is_due_once_its_time_has_passed() -> None:
    assert not workdirs.due(ended_at=100.0, now=199.0, keep_s=100.0)
    assert workdirs.due(ended_at=100.0, now=200.0, keep_s=100.0)
