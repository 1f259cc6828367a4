"""The executor's handlers: start dispatched runs as attempts, stop them, heartbeat."""

import asyncio
import logging
import time
from pathlib import Path

from services.executor import leftovers, reaper, workdirs
from services.executor.backends import Backend
from services.executor.contract import Layout
from services.executor.runner import Attempt, Context
from services.executor.workdirs import WorkRootError, private_dir
from shared.bus import now
from shared.envelope import Envelope
from shared.events import (
    DeviceState,
    ExecutorHeartbeat,
    ExecutorRunEnded,
    Resources,
    RunDispatched,
    RunningAttempt,
    RunStopRequested,
)
from shared.periodic import every
from shared.runs import LOST_ON_RESTART

log = logging.getLogger(__name__)
REDELIVERY_S = 600.0


class Executor:
    def __init__(self, ctx: Context, backends: dict[str, Backend], workdirs: Path) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.id = ctx.settings.executor_id
        self.backends = backends
        self.workdirs = workdirs
        # By run and attempt: a retry may come while the attempt before it still settles.
        self.attempts: dict[tuple[str, int], Attempt] = {}
        # Attempts ended here whose dir may be gone: a dispatch redelivered (its ack lost)
        # must not start them again. Redeliveries end within minutes (max_deliver times ack_wait).
        self.ended: dict[tuple[str, int], float] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.stopping = False
        settings = ctx.settings
        # What it offers: its settings' with its own GPUs (the ledger's), or a Ray
        # cluster's as last read (backends/ray.py).
        self.capacity = Resources(
            cpu=settings.cpu, memory_mb=settings.memory_mb, gpu=len(ctx.ledger.devices)
        )

    async def on_dispatched(self, envelope: Envelope[RunDispatched]) -> None:
        """Start the run's attempt; a redelivered dispatch starts nothing."""
        run = envelope.data
        if self.stopping:
            # Not acked: after the restart (or on another executor) it is delivered again.
            raise RuntimeError(f"executor {self.id} is stopping; run {run.run_id} must wait")
        key = (run.run_id, run.attempt)
        root = self.workdirs / run.run_id / f"attempt-{run.attempt}"
        if key in self.attempts or root.exists() or key in self.ended:
            log.info("run %s attempt %d already started here", run.run_id, run.attempt)
            return
        backend = self.backends.get(run.backend)
        if backend is None:
            offered = ", ".join(sorted(self.backends))
            await self._refuse(run, f"backend {run.backend!r} not offered here (only {offered})")
            return
        try:
            private_dir(self.workdirs)  # again: a temp dir cleaner may have removed it
        except WorkRootError as err:
            await self._refuse(run, str(err))
            return
        root.mkdir(parents=True)
        self.ctx.live.begin(
            run.run_id, run.attempt, run.model_dump_json() if backend.remote else None
        )
        self._begin(run, backend, root)

    def _begin(
        self, run: RunDispatched, backend: Backend, root: Path, *, attached: bool = False
    ) -> None:
        attempt = Attempt(self.ctx, run, backend, Layout(root), attached=attached)
        self.attempts[(run.run_id, run.attempt)] = attempt
        task = asyncio.create_task(attempt.live())
        self.tasks.add(task)
        task.add_done_callback(lambda _: self._forget(run, task))

    def _forget(self, run: RunDispatched, task: "asyncio.Task[None]") -> None:
        self.tasks.discard(task)
        self.attempts.pop((run.run_id, run.attempt), None)
        self.ended[(run.run_id, run.attempt)] = time.monotonic()

    async def sweep_workdirs(self) -> None:
        """Kept work dirs past their time go; so does the memory of long-ended attempts."""
        keep_s = self.settings.keep_failed_workdirs_s
        await asyncio.to_thread(workdirs.sweep, self.workdirs, time.time(), keep_s)
        horizon = time.monotonic() - REDELIVERY_S
        self.ended = {key: at for key, at in self.ended.items() if at > horizon}

    async def sweep_workdirs_forever(self) -> None:
        await every(self.settings.workdir_sweep_s, self.sweep_workdirs, "sweeping work dirs")

    async def _refuse(self, run: RunDispatched, reason: str) -> None:
        ended = ExecutorRunEnded(
            run_id=run.run_id, executor_id=self.id, attempt=run.attempt, reason=reason, at=now()
        )
        await self.ctx.reports.send(ended)

    async def on_stop_requested(self, envelope: Envelope[RunStopRequested]) -> None:
        """Stop a run (SIGTERM, then SIGKILL after the grace period), in the background."""
        request = envelope.data
        for (run_id, number), attempt in list(self.attempts.items()):
            # None of them: already ended; the end report says how.
            if run_id == request.run_id and request.attempt in (None, number):
                task = asyncio.create_task(attempt.stop(request.reason, request.grace_s))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)

    def heartbeat(self) -> ExecutorHeartbeat:
        settings = self.settings
        # An attempt whose end report waits in the spool is still this executor's.
        held = set(self.attempts) | self.ctx.reports.unsent_ends()
        return ExecutorHeartbeat(
            executor_id=self.id,
            slots=settings.slots,
            capacity=self.capacity,
            labels=settings.labels,
            backends=sorted(self.backends),
            running=sorted({run_id for run_id, _ in held}),
            stopping=self.stopping,
            attempts=[RunningAttempt(run_id=r, attempt=n) for r, n in sorted(held)],
            at=now(),
            interval_s=settings.heartbeat_s,
            devices=self.devices(),
        )

    def devices(self) -> list[DeviceState]:
        held = self.ctx.ledger.held
        return [
            DeviceState(**vars(d), run_id=held[d.id].split("/")[0] if d.id in held else None)
            for d in self.ctx.ledger.devices
        ]

    async def beat(self) -> None:
        try:
            await self.ctx.bus.publish(self.heartbeat())
        except Exception:
            # A missed beat is harmless; the next one follows in a second.
            log.exception("heartbeat failed")
        else:
            self.ctx.reports.due()  # the bus takes messages again

    async def heartbeat_forever(self) -> None:
        while True:
            await self.beat()
            await asyncio.sleep(self.settings.heartbeat_s)

    async def stop_taking(self) -> None:
        """On shutdown, first: no run is placed here any more (the heartbeat says so at
        once), and a dispatch that comes now is left for this executor's next life."""
        self.stopping = True
        await self.beat()

    async def take_over(self) -> None:
        """At start: adopt what runs leave behind, and end what a previous life of this
        executor left running (killed, it never reported those attempts' end)."""
        if not reaper.become_subreaper():
            log.warning("not a child subreaper: what a run leaves behind may outlive it")
        reported = self.ctx.reports.unsent_ends()  # before they are sent: ended, not lost
        await self.ctx.reports.flush()  # what a previous life could not send, first
        for leftover in await asyncio.to_thread(self.ctx.live.unfinished):
            if (leftover.run_id, leftover.attempt) in reported:
                # It ended in that life and its end waits in the spool; it is no leftover.
                self.ctx.live.end(leftover.run_id, leftover.attempt)
                continue
            if self._attach(leftover):
                continue
            killed = await asyncio.to_thread(leftovers.kill, leftover)
            reason = LOST_ON_RESTART + (f"; killed {', '.join(killed)}" if killed else "")
            log.warning("run %s attempt %d: %s", leftover.run_id, leftover.attempt, reason)
            # Its dir is a failed attempt's: kept a while for debugging, then swept.
            root = self.workdirs / leftover.run_id / f"attempt-{leftover.attempt}"
            await asyncio.to_thread(workdirs.keep, root)
            ended = ExecutorRunEnded(
                run_id=leftover.run_id,
                executor_id=self.id,
                attempt=leftover.attempt,
                reason=reason,
                at=now(),
            )
            await self.ctx.reports.send(ended)
            self.ctx.live.end(leftover.run_id, leftover.attempt)

    def _attach(self, leftover: leftovers.Leftover) -> bool:
        """A remote attempt goes on without us: watch it again (its backend finds the job
        it started by the attempt's id, and does not start it twice)."""
        if not leftover.dispatch:
            return False
        try:
            run = RunDispatched.model_validate_json(leftover.dispatch)
        except ValueError:
            return False  # cut short by the kill: reported lost as a local attempt is
        backend = self.backends.get(run.backend)
        if backend is None or not backend.remote:
            return False
        log.info("run %s attempt %d: attaching again after a restart", run.run_id, run.attempt)
        root = self.workdirs / run.run_id / f"attempt-{run.attempt}"
        root.mkdir(parents=True, exist_ok=True)
        self._begin(run, backend, root, attached=True)
        return True

    async def stop_all(self) -> None:
        """On shutdown: stop every run and report how it ended."""
        self.stopping = True
        reason = "executor shut down"
        grace = self.settings.stop_grace_s
        await asyncio.gather(*(a.stop(reason, grace) for a in list(self.attempts.values())))
        await asyncio.gather(*list(self.tasks), return_exceptions=True)
