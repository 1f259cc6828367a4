"""Capturing a run's output: lines with timestamps, shipped live as log chunks, archived to
a file, and `::metric`/`::param`/`::tag` markers handed on to be recorded."""

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO

from services.executor import markers
from services.executor.lines import LineSplitter
from services.executor.markers import Marker
from shared.bus import now
from shared.events import LogChunk, LogLine

Ship = Callable[[LogChunk], Awaitable[object]]
OnMarker = Callable[[Marker], None]
STDERR_TAIL = 20
CHUNK_LINES = 500


class LogShipper:
    """Collects lines and ships them as chunks: at most every `flush_s`, or when many pile up."""

    def __init__(self, run_id: str, ship: Ship, flush_s: float) -> None:
        self.run_id = run_id
        self.ship = ship
        self.flush_s = flush_s
        self.pending: list[LogLine] = []
        self.seq = 0
        self._wake = asyncio.Event()

    def add(self, line: LogLine) -> None:
        self.pending.append(line)
        if len(self.pending) >= CHUNK_LINES:
            self._wake.set()

    async def flush(self) -> None:
        while self.pending:
            batch, self.pending = self.pending[:CHUNK_LINES], self.pending[CHUNK_LINES:]
            await self.ship(LogChunk(run_id=self.run_id, seq=self.seq, lines=batch))
            self.seq += 1

    async def flush_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.flush_s)
            self._wake.clear()
            await self.flush()


class Capture:
    """The sink a backend feeds: bounded in bytes, so a flood cannot exhaust the executor."""

    def __init__(
        self,
        shipper: LogShipper,
        archive: Path,
        on_marker: OnMarker,
        limit_bytes: int,
        *,
        skip: int = 0,
        durable: bool = False,
    ) -> None:
        self.shipper = shipper
        # Lines an earlier life of the executor recorded already: a run attached to again
        # (a Ray Job) replays its output from the start.
        self.skip = skip
        # Each chunk's lines on disk at once: a later life counts them to skip (remote runs).
        self.durable = durable
        self.on_marker = on_marker
        self.limit = limit_bytes
        self.seen = 0
        self.dropped = 0
        self.stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL)
        self.splitters = {"stdout": LineSplitter(), "stderr": LineSplitter()}
        self.archive: IO[str] = archive.open("a", encoding="utf-8")

    def __call__(self, stream: str, chunk: bytes) -> None:
        if self.seen >= self.limit:
            self.dropped += len(chunk)  # read and dropped: the run must not block on a full pipe
            return
        self.seen += len(chunk)
        self.add(stream, self.splitters[stream].feed(chunk))
        if self.durable:
            self.archive.flush()
        if self.seen >= self.limit:
            mib = self.limit / 1024 / 1024
            self.add("stderr", [f"boxops: output beyond {mib:g} MiB is not recorded"])

    def add(self, stream: str, lines: list[str]) -> None:
        at = now()
        for text in lines:
            if self.skip:
                self.skip -= 1
                continue
            line = LogLine(t=at, stream=stream, line=text)
            self.shipper.add(line)
            self.archive.write(line.model_dump_json() + "\n")
            if stream == "stderr":
                self.stderr_tail.append(text)
            elif text.startswith(markers.PREFIX) and (marker := markers.parse(text)):
                self.on_marker(marker)

    def note(self, text: str) -> None:
        """A line from the executor itself, on the run's stderr (a refused output…)."""
        self.add("stderr", [f"boxops: {text}"])

    def close(self) -> None:
        for stream, splitter in self.splitters.items():
            self.add(stream, splitter.close())
        if self.dropped:
            self.note(f"{self.dropped} more bytes of output were not recorded")
        self.archive.close()
