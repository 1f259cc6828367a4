"""The local backend: a run is a subprocess in its own process group and work dir."""

import asyncio
import contextlib
import logging
import os
import signal
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path

from services.executor.lines import LineSplitter
from shared.bus import now
from shared.events import LogChunk, LogLine, RunDispatched

log = logging.getLogger(__name__)

Ship = Callable[[LogChunk], Awaitable[object]]
STDERR_TAIL = 20


class LogShipper:
    """Collects lines and ships them as chunks: at most every `flush_s`, or when many pile up."""

    def __init__(self, run_id: str, ship: Ship, flush_s: float) -> None:
        self.run_id = run_id
        self.ship = ship
        self.flush_s = flush_s
        self.pending: list[LogLine] = []
        self.seq = 0
        self.stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL)
        self._wake = asyncio.Event()

    def add(self, stream: str, lines: list[str]) -> None:
        at = now()
        for line in lines:
            self.pending.append(LogLine(t=at, stream=stream, line=line))  # type: ignore[arg-type]
            if stream == "stderr":
                self.stderr_tail.append(line)
        if len(self.pending) >= 500:
            self._wake.set()

    async def flush(self) -> None:
        while self.pending:
            batch, self.pending = self.pending[:500], self.pending[500:]
            await self.ship(LogChunk(run_id=self.run_id, seq=self.seq, lines=batch))
            self.seq += 1

    async def flush_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.flush_s)
            self._wake.clear()
            await self.flush()


def run_env(run: RunDispatched, workdir: Path) -> dict[str, str]:
    """The executor's environment without its own BOXOPS_* settings, plus the run's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    env.update(run.env)
    env.update({"BOXOPS_RUN_ID": run.run_id, "BOXOPS_WORKDIR": str(workdir)})
    return env


async def start(run: RunDispatched, workdir: Path) -> asyncio.subprocess.Process:
    """Start the command; raises OSError when it cannot (not found, not executable)."""
    workdir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - one mkdir, microseconds
    return await asyncio.create_subprocess_exec(
        *run.command,
        cwd=workdir,
        env=run_env(run, workdir),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # its own process group, so a stop reaches its children too
    )


async def pump(stream: asyncio.StreamReader, name: str, shipper: LogShipper) -> None:
    splitter = LineSplitter()
    while chunk := await stream.read(64 * 1024):
        shipper.add(name, splitter.feed(chunk))
    shipper.add(name, splitter.close())


async def watch(process: asyncio.subprocess.Process, shipper: LogShipper) -> int:
    """Ship the process's output until it exits; returns the exit code."""
    assert process.stdout and process.stderr
    flusher = asyncio.create_task(shipper.flush_forever())
    try:
        pumps = asyncio.gather(
            pump(process.stdout, "stdout", shipper), pump(process.stderr, "stderr", shipper)
        )
        code = await process.wait()
        # Children it left behind would hold the pipes open: the run is over, so is its group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await pumps
    finally:
        flusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flusher
    await shipper.flush()
    return code


async def terminate(process: asyncio.subprocess.Process, grace_s: float) -> None:
    """SIGTERM the whole process group, then SIGKILL what is left after the grace period."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), grace_s)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
