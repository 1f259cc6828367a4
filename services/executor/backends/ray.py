"""The ray backend: a run is a Ray Job on an existing Ray cluster (VMs or KubeRay).

The job runs the boxops launcher (ray_launcher.py) on the node Ray places it on, which keeps
the run contract there and uploads the outputs itself. Its submission id comes from the
run and attempt: an attempt already submitted (by an earlier life of this executor) is
attached to, never submitted again. Its log is tailed into the run's log; a stop is Ray's
stop_job. The cluster's capacity, summed over its alive nodes, is what the executor offers.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable

from services.executor import contract
from services.executor.backends import Launch, Sink, StartError
from services.executor.contract import Layout
from services.executor.lines import LineSplitter
from services.executor.ray_cluster import JobState, RayCluster, RayError
from services.executor.ray_plan import (
    BEGIN,
    ENDED,
    STDERR,
    Capacity,
    Ended,
    Payload,
    boxops_reason,
    capacity,
    ended_of,
    entrypoint,
    entrypoint_options,
    payload_env,
    run_lines,
    submission_id,
)

log = logging.getLogger(__name__)
# A job's state is asked for this often, and at once when its log tail closes (the job
# has ended then): each ask is a request to the cluster's one dashboard process.
POLL_S = 1.0


class RayRun:
    """A submitted job: its log fed to the sink, its end read from the launcher's last line."""

    def __init__(self, cluster: RayCluster, job: str) -> None:
        self.cluster = cluster
        self.job = job
        self.pid: int | None = None
        self.left_behind: list[str] = []  # Ray ends the job's processes
        self.ended: Ended | None = None
        self.failure: str | None = None  # why it has no exit code of its own
        self._log: str | None = None  # the whole log, once the job ended
        self._done = asyncio.Event()
        self._tail_closed = asyncio.Event()
        self.fed = 0  # characters of the log fed to the sink
        self.held: list[str] = []  # Ray's lines before the launcher began
        self._began = False
        self._lines = LineSplitter()

    def uploaded(self) -> Ended | None:
        return self.ended

    async def stream(self, sink: Sink) -> None:
        tailing = asyncio.create_task(self._tail(sink))
        await self._done.wait()
        tailing.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await tailing
        if self._log is not None:  # what the tail had not delivered yet
            self.feed(self._log[self.fed :], sink)
        self._lines_of(self._lines.close(), sink)
        if not self._began:  # the launcher never ran: Ray's lines say why
            for line in self.held:
                sink("stderr", (line + "\n").encode())

    async def _tail(self, sink: Sink) -> None:
        try:
            async for chunk in self.cluster.tail(self.job):
                self.feed(chunk, sink)
        except Exception:
            # The tail is the live view only: the end reads the whole log.
            log.warning("tailing the log of ray job %s failed", self.job, exc_info=True)
        finally:
            self._tail_closed.set()

    def feed(self, text: str, sink: Sink) -> None:
        self.fed += len(text)
        self._lines_of(self._lines.feed(text.encode()), sink)

    def _lines_of(self, lines: list[str], sink: Sink) -> None:
        for line in lines:
            if not self._began:
                self._began = line == BEGIN
                if not self._began:
                    self.held.append(line)
            elif line.startswith(STDERR):
                sink("stderr", (line[len(STDERR) :] + "\n").encode())
            elif not line.startswith(ENDED):
                sink("stdout", (line + "\n").encode())

    async def wait(self) -> int:
        state = await self._ended_state()
        try:
            self._log = await self.cluster.logs(self.job)
        except RayError as err:
            log.warning("reading the log of ray job %s: %s", self.job, err)
            self._log = None
        lines = run_lines(self._log or "")
        self.ended = ended_of(lines)
        self._done.set()
        if self.ended is not None and self.ended.exit_code is not None:
            return self.ended.exit_code
        self.failure = (
            (self.ended.reason if self.ended else None)
            or boxops_reason(lines)
            or f"ray job {self.job} {state.status.lower()}: {_short(state.message)}"
        )
        return state.exit_code if state.exit_code is not None else -1

    async def _ended_state(self) -> JobState:
        while True:
            try:
                state = await self.cluster.job(self.job)
            except RayError as err:
                log.warning("ray job %s: %s", self.job, err)  # the cluster may come back
                state = None
            if state is not None and state.ended:
                return state
            if self._tail_closed.is_set():  # it ends (or the tail failed): ask again soon
                await asyncio.sleep(POLL_S / 4)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._tail_closed.wait(), POLL_S)

    async def terminate(self, grace_s: float) -> None:
        try:
            await self.cluster.stop(self.job)
        except RayError as err:
            log.warning("stopping ray job %s: %s", self.job, err)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._done.wait(), grace_s + 5)

    async def cleanup(self) -> None:
        self._done.set()  # a stream still tailing (an error, a cancel) ends


class RayBackend:
    name = "ray"
    remote = True  # the node lays the attempt out: nothing of it is on this machine

    def __init__(
        self,
        address: str,
        *,
        python: str = "python",
        gpu_resource: str = "GPU",
        artifact_token: str = "",
    ) -> None:
        self.address = address
        self.python = python
        self.gpu_resource = gpu_resource
        self.artifact_token = artifact_token
        self.cluster: RayCluster | None = None

    def seen(self, host: Layout) -> Layout:
        return host  # unused: the launcher lays the attempt out on the node

    async def start(self, launch: Launch) -> RayRun:
        run, cluster = launch.run, self.cluster
        if run is None or cluster is None:
            raise StartError(f"ray cluster at {self.address} is not connected")
        if launch.image:
            raise StartError(
                f"the ray backend runs in the Ray nodes' own environment, not in an image: "
                f"image {launch.image!r} is refused (leave image unset, or use backend docker)"
            )
        job = submission_id(run.run_id, run.attempt)
        payload = Payload(
            run=run,
            api_url=launch.env.get("BOXOPS_API_URL", ""),
            run_token=launch.env.get("BOXOPS_RUN_TOKEN", ""),
            artifact_token=self.artifact_token,
        )
        variables = run.env | contract.param_env(run.params) | payload_env(payload)
        try:
            if await cluster.job(job) is None:
                await cluster.submit(
                    job,
                    entrypoint(self.python),
                    runtime_env={"env_vars": variables},
                    metadata={"boxops_run": run.run_id, "boxops_attempt": str(run.attempt)},
                    **entrypoint_options(run.resources, self.gpu_resource),
                )
            else:
                log.info("run %s attempt %d: attaching to ray job %s", run.run_id, run.attempt, job)
        except RayError as err:
            raise StartError(str(err)) from None
        return RayRun(cluster, job)

    async def connect(self) -> Capacity:
        """The cluster's capacity now, connecting first if need be; RayError if unreachable."""
        if self.cluster is None:
            self.cluster = await RayCluster.connect(self.address)
        return capacity(await self.cluster.nodes(), self.gpu_resource)

    async def watch_forever(
        self, on_change: Callable[[Capacity | None], None], every_s: float
    ) -> None:
        """Keep the cluster's capacity current; None while it cannot be reached (said once
        per outage, with the address and why)."""
        reachable: bool | None = None
        while True:
            try:
                found: Capacity | None = await self.connect()
            except RayError as err:
                found = None
                if reachable is not False:
                    log.warning("%s; no ray backend until it answers (retrying)", err)
            if found is not None and reachable is not True:
                log.info("ray cluster at %s: %d nodes", self.address, found.nodes)
            reachable = found is not None
            on_change(found)
            await asyncio.sleep(every_s)


def _short(message: str) -> str:
    """Ray's reason without the log it appends (the run's log has that)."""
    return message.split(", last available logs", 1)[0].strip() or "no reason given"
