"""A real executor on a real nats-server, driven as the scheduler would: dispatches in,
reports, log chunks and metric points read back from the streams."""

import asyncio
import json
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from services.executor.app import build_app
from services.executor.inputs import BlobStore
from services.executor.settings import ExecutorSettings
from shared.bus import Bus, new_id, now
from shared.events import (
    DeclaredOutput,
    ExecutorRunEnded,
    ExecutorRunStarted,
    InputRef,
    LogLine,
    MetricLogged,
    MetricsLogged,
    RunDispatched,
    RunStopRequested,
)
from shared.service import Service
from tests.conftest import eventually

IMAGE = "boxops-test/busybox"
DOCKER_SOCKET = "/var/run/docker.sock"


def docker_answers() -> bool:
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(2)
            s.connect(DOCKER_SOCKET)
            s.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
            return b"OK" in s.recv(1024)
    except OSError:
        return False


def need_docker() -> None:
    """Skip without a daemon, except under CI, which must have one (.ci/run starts it)."""
    if docker_answers():
        return
    if os.environ.get("CI"):
        pytest.fail("CI is set but no Docker daemon answers at " + DOCKER_SOCKET)
    pytest.skip("no Docker daemon (set CI=1 to make this a failure)")


@dataclass
class Harness:
    backend: str
    service: Service
    client: Any  # nats.aio.client.Client
    home: Path
    ended_reports: dict[str, ExecutorRunEnded] = field(default_factory=dict)
    started_reports: dict[str, ExecutorRunStarted] = field(default_factory=dict)
    lines: dict[str, list[tuple[float, LogLine]]] = field(default_factory=dict)
    points: dict[str, list[MetricLogged]] = field(default_factory=dict)

    @property
    def bus(self) -> Bus:
        return self.service.bus

    @property
    def settings(self) -> ExecutorSettings:
        return self.service.settings  # type: ignore[return-value]

    async def dispatch(
        self,
        command: list[str],
        *,
        outputs: dict[str, str] | None = None,
        inputs: dict[str, InputRef] | None = None,
        run_id: str | None = None,
        **fields: Any,
    ) -> str:
        run_id = run_id or new_id()
        declared = {
            name: DeclaredOutput(type=kind, name=f"{name}-of-test")  # type: ignore[arg-type]
            for name, kind in (outputs or {}).items()
        }
        fields.setdefault("backend", self.backend)
        fields.setdefault("image", IMAGE if fields["backend"] == "docker" else None)
        run = RunDispatched(
            run_id=run_id,
            state="pending",
            substate="dispatched",
            at=now(),
            executor_id=self.settings.executor_id,
            command=command,
            outputs=declared,
            inputs=inputs or {},
            **fields,
        )
        await self.bus.publish(run)
        return run_id

    async def ended(self, run_id: str, timeout: float = 30) -> ExecutorRunEnded:
        async def check() -> ExecutorRunEnded | None:
            return self.ended_reports.get(run_id)

        return await eventually(check, timeout=timeout)  # type: ignore[return-value]

    async def started(self, run_id: str, timeout: float = 30) -> ExecutorRunStarted:
        async def check() -> ExecutorRunStarted | None:
            return self.started_reports.get(run_id)

        return await eventually(check, timeout=timeout)  # type: ignore[return-value]

    def output(self, run_id: str) -> list[str]:
        return [line.line for _, line in self.lines.get(run_id, [])]

    async def printed(self, run_id: str, text: str, timeout: float = 10) -> None:
        async def check() -> bool:
            return text in self.output(run_id)

        await eventually(check, timeout=timeout)

    async def stop(
        self, run_id: str, grace_s: float = 1.0, reason: str = "aborted by user"
    ) -> None:
        await self.bus.publish(
            RunStopRequested(
                run_id=run_id, executor_id=self.settings.executor_id, reason=reason, grace_s=grace_s
            )
        )

    def workdir(self, run_id: str, attempt: int = 1) -> Path:
        return self.settings.work_dirs() / run_id / f"attempt-{attempt}"

    async def listen(self) -> None:
        js: JetStreamContext = self.client.jetstream()
        loop = asyncio.get_running_loop()

        async def on_report(msg: Msg) -> None:
            body = json.loads(msg.data)
            if msg.subject == ExecutorRunEnded.subject:
                self.ended_reports[body["run_id"]] = ExecutorRunEnded.model_validate(body)
            else:
                self.started_reports[body["run_id"]] = ExecutorRunStarted.model_validate(body)

        async def on_log(msg: Msg) -> None:
            body = json.loads(msg.data)
            lines = self.lines.setdefault(body["run_id"], [])
            lines.extend((loop.time(), LogLine.model_validate(x)) for x in body["lines"])

        async def on_metrics(msg: Msg) -> None:
            batch = MetricsLogged.model_validate_json(msg.data)
            self.points.setdefault(batch.run_id or "", []).extend(
                MetricLogged(**p.model_dump(), run_id=batch.run_id, labels=batch.labels)
                for p in batch.points
            )

        await js.subscribe("executor.run.*", cb=on_report, ordered_consumer=True)
        await js.subscribe("log.>", cb=on_log, ordered_consumer=True)
        await js.subscribe("metrics.logged", cb=on_metrics, ordered_consumer=True)


async def start_harness(
    backend: str, nats_url: str, home: Path, blobs: BlobStore | None = None, **settings: Any
) -> Harness:
    settings = {"executor_id": f"ex-{backend}", "log_flush_s": 0.02, "stop_grace_s": 2} | settings
    config = ExecutorSettings(nats_url=nats_url, home=home, **settings)
    service = build_app(config, blobs=blobs)
    await service.start()
    client = await nats.connect(nats_url)
    harness = Harness(backend, service, client, home)
    await harness.listen()
    return harness


@pytest.fixture(name="executor", params=["local", "docker"])
async def executor_fixture(
    request: pytest.FixtureRequest, nats_url: str, tmp_path: Path
) -> AsyncIterator[Harness]:
    """The same contract cases on each backend."""
    if request.param == "docker":
        need_docker()
    harness = await start_harness(request.param, nats_url, tmp_path / "home")
    yield harness
    await harness.service.stop()
    await harness.client.close()
