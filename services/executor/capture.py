"""Capturing a run's output: lines with timestamps, shipped live as log chunks, archived to
a file, and `::metric`/`::param`/`::tag` markers handed on to be recorded."""

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO

from services.executor import markers
from services.executor.lines import LineSplitter
from services.executor.markers import Marker
from shared.bus import now
from shared.events import LogChunk, LogLine

log = logging.getLogger(__name__)

Ship = Callable[[LogChunk], Awaitable[object]]
OnMarker = Callable[[Marker], None]
STDERR_TAIL = 20
CHUNK_LINES = 500
CHUNK_BYTES = 256 * 1024  # of line text a chunk: well under a NATS message's 1 MiB


class LogShipper:
    """Collects lines and ships them as chunks: at most every `flush_s`, or when many pile up."""

    def __init__(
        self, run_id: str, ship: Ship, flush_s: float, online: Callable[[], bool] = lambda: True
    ) -> None:
        self.run_id = run_id
        self.ship = ship
        self.online = online  # False while NATS is out of reach: shipping would only wait
        self.flush_s = flush_s
        self.pending: list[LogLine] = []
        self.seq = 0
        self._wake = asyncio.Event()

    def add(self, line: LogLine) -> None:
        self.pending.append(line)
        if len(self.pending) >= CHUNK_LINES:
            self._wake.set()

    async def flush(self) -> None:
        """Ship what is pending; a chunk that cannot be shipped stays pending (with its
        sequence number) for the next flush."""
        while self.pending:
            batch = self.pending[: _chunk_size(self.pending)]
            await self.ship(LogChunk(run_id=self.run_id, seq=self.seq, lines=batch))
            del self.pending[: len(batch)]
            self.seq += 1

    async def flush_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.flush_s)
            self._wake.clear()
            await self.flush_or_keep()  # kept pending: the next flush ships them

    async def flush_or_keep(self) -> None:
        """Flush; chunks NATS will not take now stay pending (`unshipped` hands them over)."""
        if not self.online():
            return
        try:
            await self.flush()
        except Exception as err:
            log.warning("shipping the log of run %s failed (%s): kept", self.run_id, err)

    def unshipped(self) -> list[LogChunk]:
        """What is pending, as the chunks a flush would ship; then nothing is pending."""
        chunks = []
        while self.pending:
            size = _chunk_size(self.pending)
            batch, self.pending = self.pending[:size], self.pending[size:]
            chunks.append(LogChunk(run_id=self.run_id, seq=self.seq, lines=batch))
            self.seq += 1
        return chunks


def _chunk_size(pending: list[LogLine]) -> int:
    """How many of the first lines make the next chunk: at most CHUNK_LINES, and no more
    than CHUNK_BYTES of text (but at least one line, which the line splitter bounds)."""
    total = 0
    for count, line in enumerate(pending[:CHUNK_LINES]):
        total += len(line.line)
        if total > CHUNK_BYTES and count:
            return count
    return min(len(pending), CHUNK_LINES)


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
