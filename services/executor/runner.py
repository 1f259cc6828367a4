"""One attempt of a run on this executor, from dispatch to end report:
lay out → materialise inputs → start → capture → end → collect outputs → report."""

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.executor import contract, outputs, provenance, sdk_buffer, workdirs
from services.executor.backends import Backend, Launch, Remote, Running, StartError
from services.executor.capture import Capture, LogShipper
from services.executor.contract import ContractError, Layout
from services.executor.devices import GpuMeter
from services.executor.inputs import BlobStore, InputError, Inputs
from services.executor.ledger import Ledger, NotEnoughDevices
from services.executor.leftovers import LiveAttempts
from services.executor.outputs import OutputRefused
from services.executor.recorder import Recorder
from services.executor.remote import remote_launch, uploaded_outputs
from services.executor.reports import Reports
from services.executor.sampler import Gpus, Sampling
from services.executor.settings import ExecutorSettings
from services.executor.usage import oom_reason
from shared.artifacts import run_logs_key
from shared.bus import Bus, now
from shared.envelope import Envelope
from shared.events import (
    ExecutorRunEnded,
    ExecutorRunStarted,
    FileEntry,
    LogChunk,
    RunArtifact,
    RunDispatched,
    RunOutput,
    RunUsage,
)
from shared.logs import log_context
from shared.run_token import expiry, run_token

log = logging.getLogger(__name__)
# A run attached to again ships its chunks after the first life's in seq order (that life
# shipped fewer chunks than this).
ATTACHED_SEQ = 1_000_000_000


@dataclass
class Context:
    """What every attempt on this executor shares."""

    settings: ExecutorSettings
    bus: Bus
    inputs: Inputs
    blobs: BlobStore | None
    live: LiveAttempts  # which attempts have begun and not ended, for a later life
    reports: Reports  # to the scheduler, spooled until sent
    ledger: Ledger = field(default_factory=lambda: Ledger([]))  # its GPUs, by attempt
    gpu_meter: GpuMeter | None = None  # reads what a run's GPUs do (NVML)


@dataclass
class Attempt:
    ctx: Context
    run: RunDispatched
    backend: Backend
    host: Layout
    running: Running | None = None
    stop_reason: str | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    archived: bool = True  # nothing the run left is lost with its dir (outputs, log, SDK's)
    completed: bool = False  # it exited 0, unstopped, and its outputs were taken
    devices: list[str] = field(default_factory=list)  # the GPUs it holds
    attached: bool = False  # started by an earlier life of the executor (a remote run)

    @property
    def key(self) -> str:
        """The attempt, as the input cache knows its users."""
        return f"{self.run.run_id}/{self.run.attempt}"

    @property
    def root(self) -> Path:
        return Path(self.host.root)

    async def live(self) -> None:
        """The whole attempt; it always ends with an end report, whatever happened."""
        with log_context(run_id=self.run.run_id):
            try:
                await self._live()
            except Exception as err:
                log.exception("run %s failed in the executor", self.run.run_id)
                await self.report(None, f"executor error: {type(err).__name__}: {err}")
            finally:
                self.ctx.inputs.release(self.key)
                self.ctx.ledger.release(self.key)
                await asyncio.to_thread(self.settle)
                self.ended.set()
            # Reported: a later life of this executor has nothing of it to end.
            self.ctx.live.end(self.run.run_id, self.run.attempt)

    def settle(self) -> None:
        """Its dir goes once everything in it is archived; a failed one is kept a while."""
        if (self.completed and self.archived) or self.ctx.settings.keep_failed_workdirs_s == 0:
            workdirs.remove_workdir(self.root)
        else:
            workdirs.keep(self.root)

    async def _live(self) -> None:
        try:
            launch = await self.prepare()
            if self.stop_reason:
                await self.report(None, self.stop_reason)
                return
            self.running = await self.backend.start(launch)
        except (StartError, InputError, ContractError, NotEnoughDevices) as err:
            await self.report(None, str(err))
            return
        if self.running.pid is not None:
            self.ctx.live.started(self.run.run_id, self.run.attempt, self.running.pid)
        await self.ctx.reports.send(
            ExecutorRunStarted(
                run_id=self.run.run_id,
                executor_id=self.ctx.settings.executor_id,
                attempt=self.run.attempt,
                pid=self.running.pid,
                at=now(),
            )
        )
        await self.watch(self.running)

    async def prepare(self) -> Launch:
        host, run = self.host, self.run
        workdirs.lay_out(host, run)  # a few mkdirs: cheaper here than a hop to a thread
        if self.backend.remote:
            return remote_launch(self.ctx.settings, run, host)
        local = self.backend.name == "local"
        found = await self.ctx.inputs.materialise(
            run.inputs, Path(host.inputs), local=local, by=self.key
        )
        seen = self.backend.seen(host)
        settings = self.ctx.settings
        secret = settings.run_token_secret
        expires = expiry(now().timestamp(), run.timeout_s, settings.run_token_max_s)
        env = contract.run_env(
            run,
            seen,
            api_url=settings.gateway_url,
            token=run_token(secret, run.run_id, expires) if secret else "",
            uris=found.uris,
        )
        if run.resources.gpu:
            self.devices = self.ctx.ledger.assign(self.key, run.resources.gpu)
        return Launch(
            run_id=run.run_id,
            command=contract.render(run, seen),
            env=env | contract.gpu_env(self.devices),
            devices=tuple(self.devices),
            host=host,
            resources=run.resources,
            image=run.image,
            network=run.network,
            mounts=found.mounts,
        )

    async def watch(self, running: Running) -> None:
        settings, run = self.ctx.settings, self.run
        recorder = Recorder(self.ctx.bus, run.run_id, self.labels(), settings.metric_flush_s)
        bus = self.ctx.bus
        shipper = LogShipper(
            run.run_id, self.ship, settings.log_flush_s, lambda: bus.nats.connected
        )
        limit = int(settings.log_limit_mb * 1024 * 1024)
        skip = 0
        if self.attached:
            shipper.seq = ATTACHED_SEQ
            skip = await asyncio.to_thread(_lines_in, Path(self.host.logs))
        capture = Capture(
            shipper,
            Path(self.host.logs),
            recorder.on_marker,
            limit,
            skip=skip,
            durable=self.backend.remote,
        )
        code_of = self._provenance()
        tasks = [
            asyncio.create_task(shipper.flush_forever()),
            asyncio.create_task(recorder.flush_forever()),
        ]
        streaming = asyncio.create_task(running.stream(capture))
        sampling = Sampling(
            running,
            lambda name, value, step: recorder.metric(name, value, step, now()),
            settings.executor_sample_s,
            Gpus(self.devices, self.ctx.gpu_meter) if self.devices and self.ctx.gpu_meter else None,
        )
        try:
            code: int | None = await running.wait()
            used = await sampling.end(code, run.resources.memory_mb, _cgroup_of(running))
            await _settle(streaming)
        finally:
            sampling.cancel()
            await running.cleanup()
            streaming.cancel()
            for task in tasks:
                task.cancel()
        await recorder.close(tasks[1])
        remote = running if isinstance(running, Remote) else None
        reason = self.stop_reason or f"exit code {code}"
        if used and used.oom_killed and not self.stop_reason:
            reason = oom_reason(run.resources.memory_mb, used.last_rss_mb)
        if remote is not None and remote.failure:
            code, reason = None, self.stop_reason or remote.failure
        if running.left_behind:
            reason += f"; killed what it left running: {', '.join(running.left_behind)}"
        try:
            found, refused = await self.collect(recorder, capture, remote)
        finally:
            capture.close()
            await shipper.flush_or_keep()  # every line is shipped, whatever collecting did
        await self.report(
            None if refused else code,
            f"exit code {code}, but {refused}" if refused and not self.stop_reason else reason,
            tail="\n".join(capture.stderr_tail),
            outputs=found,
            recorder=recorder,
            provenance=await _provenance_of(code_of),
            logs=await self.upload_logs(),
            artifacts=await self.artifacts(recorder, remote),
            usage=used,
            unsent=[self.log_envelope(c) for c in shipper.unshipped()] + recorder.unsent(),
        )
        self.completed = code == 0 and not self.stop_reason and not refused

    def log_envelope(self, chunk: LogChunk) -> Envelope[LogChunk]:
        # Sent again (a retry, the spool), the same id: JetStream drops the copy.
        id = f"{self.run.run_id}-{self.run.attempt}-log-{chunk.seq}"
        return self.ctx.bus.envelope(chunk, id=id)

    async def ship(self, chunk: LogChunk) -> None:
        await self.ctx.bus.publish(chunk, id=self.log_envelope(chunk).id)

    def _provenance(self) -> "asyncio.Task[dict[str, Any]]":
        if self.backend.name != "local":
            return asyncio.create_task(_nothing())
        return asyncio.create_task(provenance.of_command(self.run.command, Path(self.host.work)))

    def labels(self) -> dict[str, str]:
        return self.run.labels() | {"executor": self.ctx.settings.executor_id}

    async def collect(
        self, recorder: Recorder, capture: Capture, remote: Remote | None = None
    ) -> tuple[dict[str, RunOutput], str | None]:
        """Every declared output, uploaded; or the reason one was refused."""
        await sdk_buffer.replay(Path(self.host.sdk), recorder)
        await recorder.flush_or_keep()
        if remote is not None:
            return uploaded_outputs(
                run_outputs=self.run.outputs, recorder=recorder, ended=remote.uploaded()
            )
        found = {}
        for name, declared in self.run.outputs.items():
            try:
                collected = await asyncio.to_thread(outputs.collect, Path(self.host.outputs), name)
            except OutputRefused as err:
                capture.note(f"refused: {err}")
                return {}, f"refused: {err}"
            files = await self.upload_many(collected.files)
            metrics = (
                {**recorder.last_values(), **outputs.metrics_of(collected)}
                if declared.type == "metrics"
                else {}
            )
            found[name] = RunOutput(
                type=declared.type,
                name=declared.name,
                files=files,
                metrics=metrics,
                metadata={"files": len(files), "bytes": sum(f.size for f in files)},
            )
        return found, None

    async def upload_many(self, files: list[tuple[str, Path]]) -> list[FileEntry]:
        if not files:
            return []
        if self.ctx.blobs is None:
            raise RuntimeError("no artifact store configured (BOXOPS_GATEWAY_URL)")
        return await self.ctx.blobs.put_many(files)

    async def upload_logs(self) -> FileEntry | None:
        """The output archive, stored and named runs/<run id>/logs.jsonl (none if the run
        printed nothing)."""
        logs, blobs = Path(self.host.logs), self.ctx.blobs
        if not await asyncio.to_thread(_printed, logs):
            return None
        if blobs is None:
            self.archived = False  # the dir's copy is the only one
            return None
        try:
            entry = await blobs.put(logs, "logs.jsonl", "application/x-ndjson")
            await blobs.bind(run_logs_key(self.run.run_id), entry.sha256)
            return entry
        except Exception:
            # The live chunks stay in the telemetry stream a while, and the dir's copy is
            # kept as a failed run's; only the archive is missing.
            log.exception("archiving the logs of run %s failed", self.run.run_id)
            self.archived = False
            return None

    async def artifacts(
        self, recorder: Recorder, remote: Remote | None = None
    ) -> list[RunArtifact]:
        if remote is not None:
            ended = remote.uploaded()
            return ended.artifacts if ended else []
        if self.ctx.blobs is None:
            self.archived = False  # no store: what the SDK left stays in the dir
            return []
        try:
            return await sdk_buffer.upload_artifacts(Path(self.host.sdk), self.ctx.blobs)
        except Exception:
            # What the SDK logged stays in the run's dir (kept as a failed run's); the run's
            # result does not hang on it.
            log.exception("uploading the SDK artifacts of run %s failed", self.run.run_id)
            self.archived = False
            return []

    async def report(
        self,
        code: int | None,
        reason: str,
        *,
        tail: str = "",
        outputs: dict[str, RunOutput] | None = None,
        recorder: Recorder | None = None,
        provenance: dict[str, Any] | None = None,
        logs: FileEntry | None = None,
        artifacts: list[RunArtifact] | None = None,
        usage: RunUsage | None = None,
        unsent: Sequence[Envelope[Any]] = (),
    ) -> None:
        # What NATS would not take of the run's log and points goes first, through the
        # spool: the scheduler has them all before it hears the run ended.
        await self.ctx.reports.send_all(unsent)
        await self.ctx.reports.send(
            ExecutorRunEnded(
                run_id=self.run.run_id,
                executor_id=self.ctx.settings.executor_id,
                attempt=self.run.attempt,
                exit_code=code,
                reason=reason,
                stderr_tail=tail,
                at=now(),
                outputs=outputs or {},
                metrics=recorder.last_values() if recorder else {},
                params=recorder.params if recorder else {},
                tags=recorder.tags if recorder else {},
                provenance=provenance or {},
                logs=logs,
                artifacts=artifacts or [],
                usage=usage,
                devices=self.devices,
            )
        )

    async def stop(self, reason: str, grace_s: float) -> None:
        self.stop_reason = self.stop_reason or reason
        if self.running is not None:
            await self.running.terminate(grace_s)


async def _settle(streaming: "asyncio.Task[None]", grace_s: float = 5.0) -> None:
    """Let the last output arrive; a stream still open after the end is cut off."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(streaming), grace_s)


async def _provenance_of(task: "asyncio.Task[dict[str, Any]]") -> dict[str, Any]:
    try:
        return await task
    except Exception:
        # Provenance is a bonus: a run's record must not be lost for it.
        log.exception("no code provenance")
        return {}


def _cgroup_of(running: Running) -> Path | None:
    """A local run's cgroup, where it has one (its OOM kills are counted there)."""
    cgroup = getattr(running, "cgroup", None)
    return Path(cgroup.path) if cgroup is not None else None


def _lines_in(logs: Path) -> int:
    """How many lines the archive holds (what an earlier life recorded of the run)."""
    try:
        with logs.open("rb") as file:
            return sum(1 for _ in file)
    except OSError:
        return 0


def _printed(logs: Path) -> bool:
    return logs.exists() and logs.stat().st_size > 0


async def _nothing() -> dict[str, Any]:
    return {}
