"""The executor's handlers: start dispatched runs, report their lives, heartbeat."""

import asyncio
import logging

from services.executor import local
from services.executor.settings import ExecutorSettings
from shared.bus import Bus, now
from shared.envelope import Envelope
from shared.events import (
    ExecutorHeartbeat,
    ExecutorRunEnded,
    ExecutorRunStarted,
    Resources,
    RunDispatched,
    RunStopRequested,
)

log = logging.getLogger(__name__)


class Executor:
    def __init__(self, settings: ExecutorSettings, bus: Bus) -> None:
        self.settings = settings
        self.bus = bus
        self.id = settings.executor_id
        self.workdirs = settings.home / "executor" / "runs"
        self.processes: dict[str, asyncio.subprocess.Process] = {}
        self.watchers: dict[str, asyncio.Task[None]] = {}
        self.stop_reasons: dict[str, str] = {}
        self.stoppers: set[asyncio.Task[None]] = set()
        self.stopping = False

    async def on_dispatched(self, envelope: Envelope[RunDispatched]) -> None:
        """Start the run's process and report it; a redelivered dispatch starts nothing."""
        run = envelope.data
        if self.stopping:
            # Not acked: after the restart (or on another executor) it is delivered again.
            raise RuntimeError(f"executor {self.id} is stopping; run {run.run_id} must wait")
        workdir = self.workdirs / run.run_id / f"attempt-{run.attempt}"
        if run.run_id in self.watchers or workdir.exists():
            log.info("run %s attempt %d already started here", run.run_id, run.attempt)
            return
        try:
            process = await local.start(run, workdir)
        except OSError as err:
            await self._ended(run.run_id, None, f"cannot start {run.command[0]!r}: {err.strerror}")
            return
        self.processes[run.run_id] = process
        await self.bus.publish(
            ExecutorRunStarted(run_id=run.run_id, executor_id=self.id, pid=process.pid, at=now())
        )
        self.watchers[run.run_id] = asyncio.create_task(self._watch(run.run_id, process))

    async def _watch(self, run_id: str, process: asyncio.subprocess.Process) -> None:
        shipper = local.LogShipper(run_id, self.bus.publish, self.settings.log_flush_s)
        try:
            code = await local.watch(process, shipper)
            reason = self.stop_reasons.pop(run_id, None) or (
                "executor shut down" if self.stopping else f"exit code {code}"
            )
            await self._ended(run_id, code, reason, "\n".join(shipper.stderr_tail))
        except Exception:
            log.exception("watching run %s failed", run_id)
            raise
        finally:
            self.processes.pop(run_id, None)
            self.watchers.pop(run_id, None)

    async def _ended(self, run_id: str, code: int | None, reason: str, tail: str = "") -> None:
        await self.bus.publish(
            ExecutorRunEnded(
                run_id=run_id,
                executor_id=self.id,
                exit_code=code,
                reason=reason,
                stderr_tail=tail,
                at=now(),
            )
        )

    def heartbeat(self) -> ExecutorHeartbeat:
        settings = self.settings
        return ExecutorHeartbeat(
            executor_id=self.id,
            slots=settings.slots,
            capacity=Resources(cpu=settings.cpu, memory_mb=settings.memory_mb, gpu=settings.gpu),
            labels=settings.labels,
            backends=["local"],
            running=sorted(self.processes),
            at=now(),
        )

    async def on_stop_requested(self, envelope: Envelope[RunStopRequested]) -> None:
        """Stop a run's process tree (SIGTERM, then SIGKILL after the grace period)."""
        request = envelope.data
        process = self.processes.get(request.run_id)
        if process is None:
            return  # already ended; its end report says how
        self.stop_reasons[request.run_id] = request.reason
        # The stop runs in the background: the watcher reports the end when the tree is gone.
        stopper = asyncio.create_task(local.terminate(process, request.grace_s))
        self.stoppers.add(stopper)
        stopper.add_done_callback(self.stoppers.discard)

    async def heartbeat_forever(self) -> None:
        while True:
            try:
                await self.bus.publish(self.heartbeat())
            except Exception:
                # A missed beat is harmless; the next one follows in a second.
                log.exception("heartbeat failed")
            await asyncio.sleep(self.settings.heartbeat_s)

    async def stop_all(self) -> None:
        """On shutdown: stop every run's process tree and report how it ended."""
        self.stopping = True
        await asyncio.gather(
            *(local.terminate(p, self.settings.stop_grace_s) for p in self.processes.values())
        )
        await asyncio.gather(*self.watchers.values(), return_exceptions=True)
