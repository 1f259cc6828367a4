"""Reading a growing log file: its last lines, then what is appended (as `tail -F`)."""

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

BLOCK = 64 * 1024


def last_lines(path: Path, count: int) -> tuple[list[str], int]:
    """The last `count` whole lines and the offset where they end, read from the end
    backwards, so a long log costs no more than the lines asked for."""
    with path.open("rb") as file:
        end = file.seek(0, os.SEEK_END)
        start, data = end, b""
        while start > 0 and data.count(b"\n") <= count:
            start = max(0, start - BLOCK)
            file.seek(start)
            data = file.read(end - start)
    whole = data[: data.rfind(b"\n") + 1]  # a half-written last line waits for follow
    lines = whole.splitlines()[-count:] if count > 0 else []
    return [_text(line) for line in lines], end - (len(data) - len(whole))


def follow(
    path: Path,
    offset: int = 0,
    poll_s: float = 0.2,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[str]:
    """Lines appended to `path` after `offset`, forever. A file cut shorter (truncated)
    is read again from its start; one replaced (rotated, or made anew by a restart) is
    read to its end, then the new one from its start. Until the file exists it waits."""
    file: BinaryIO | None = None
    pending = b""
    try:
        while True:
            if file is None:
                file = _open(path, offset)
                offset = 0
            chunk = file.read(BLOCK) if file else b""
            if chunk:
                *lines, pending = (pending + chunk).split(b"\n")
                yield from (_text(line) for line in lines)
                continue
            if file and _replaced(file, path):
                file.close()
                file, pending = None, b""
                continue
            if file and os.fstat(file.fileno()).st_size < file.tell():
                file.seek(0)
                pending = b""
                continue
            sleep(poll_s)
    finally:
        if file:
            file.close()


def _open(path: Path, offset: int) -> BinaryIO | None:
    try:
        file = path.open("rb")
    except FileNotFoundError:
        return None
    file.seek(offset)
    return file


def _replaced(file: BinaryIO, path: Path) -> bool:
    """Another file has the name now (one gone without a successor is read on)."""
    try:
        named = path.stat()
    except FileNotFoundError:
        return False
    held = os.fstat(file.fileno())
    return (named.st_dev, named.st_ino) != (held.st_dev, held.st_ino)


def _text(line: bytes) -> str:
    return line.rstrip(b"\r").decode(errors="replace")
