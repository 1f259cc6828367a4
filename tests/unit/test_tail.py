"""Reading a service's log: its last lines, then what is appended, across a restart."""

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from boxops.tail import BLOCK, follow, last_lines


def append(path: Path, text: str) -> None:
    with path.open("a") as file:
        file.write(text)


def patience(waits: int = 200) -> Callable[[float], None]:
    """A sleep that gives up: a follow that missed a line fails instead of hanging."""
    left = [waits]

    def sleep(seconds: float) -> None:
        left[0] -= 1
        assert left[0] > 0, "follow kept waiting for a line that was written"
        time.sleep(seconds)

    return sleep


def taken(lines: Iterator[str], count: int) -> list[str]:
    """The next `count` lines; each is written before it is asked for, so none waits."""
    return [next(lines) for _ in range(count)]


def test_the_last_lines_of_a_log_longer_than_a_block(tmp_path: Path) -> None:
    log = tmp_path / "scheduler.log"
    log.write_text("".join(f"line {i}\n" for i in range(3 * BLOCK // 8)))
    lines, offset = last_lines(log, 3)
    assert lines == [f"line {i}" for i in range(3 * BLOCK // 8 - 3, 3 * BLOCK // 8)]
    assert offset == log.stat().st_size


def test_a_half_written_last_line_is_left_for_follow(tmp_path: Path) -> None:
    log = tmp_path / "scheduler.log"
    log.write_text("one\ntwo\nthr")
    lines, offset = last_lines(log, 5)
    assert lines == ["one", "two"]
    append(log, "ee\nfour\n")
    assert taken(follow(log, offset, poll_s=0.01, sleep=patience()), 2) == ["three", "four"]


def test_no_lines_asked_for_none_shown(tmp_path: Path) -> None:
    log = tmp_path / "scheduler.log"
    log.write_text("one\n")
    assert last_lines(log, 0) == ([], 4)


def test_follow_goes_on_after_the_file_is_truncated(tmp_path: Path) -> None:
    log = tmp_path / "scheduler.log"
    log.write_text("old 1\nold 2\n")
    lines = follow(log, log.stat().st_size, poll_s=0.01, sleep=patience())
    append(log, "before\n")
    assert taken(lines, 1) == ["before"]
    log.write_text("")
    append(log, "after\n")
    assert taken(lines, 1) == ["after"]


def test_follow_reads_the_old_file_out_then_the_new_one(tmp_path: Path) -> None:
    log = tmp_path / "scheduler.log"
    log.write_text("")
    lines = follow(log, 0, poll_s=0.01, sleep=patience())
    append(log, "first\n")
    assert taken(lines, 1) == ["first"]
    append(log, "last of the old\n")
    os.rename(log, tmp_path / "scheduler.log.1")
    log.write_text("first of the new\n")
    assert taken(lines, 2) == ["last of the old", "first of the new"]


def test_follow_waits_for_a_log_that_is_not_there_yet(tmp_path: Path) -> None:
    log = tmp_path / "scheduler.log"
    waits = []

    def service_starts(seconds: float) -> None:  # while follow waits, the log appears
        waits.append(seconds)
        log.write_text("started\n")

    lines = follow(log, 123, poll_s=0.5, sleep=service_starts)
    assert taken(lines, 1) == ["started"]  # from its start: the offset was of no file
    assert waits == [0.5]
