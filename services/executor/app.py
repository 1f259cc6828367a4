"""Wiring of the executor: backends, artifact store, subscriptions, heartbeats."""

import logging
import os
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider

from services.executor.backends import Backend
from services.executor.backends.cgroups import usable
from services.executor.backends.local import LocalBackend
from services.executor.backends.sandbox import Sandbox, Unavailable
from services.executor.devices import Device, DeviceList, offered
from services.executor.handlers import Executor
from services.executor.inputs import BlobStore, Inputs
from services.executor.ledger import Ledger
from services.executor.leftovers import LiveAttempts
from services.executor.nvml import NvmlDevices, NvmlMeter
from services.executor.ray_cluster import RayError
from services.executor.ray_plan import Capacity
from services.executor.reports import Reports
from services.executor.runner import Context
from services.executor.settings import ExecutorSettings
from services.executor.workdirs import private_dir
from shared.events import Resources, RunDispatched, RunStopRequested
from shared.service import Service, build_service

NAME = "executor"
log = logging.getLogger(__name__)


def build_app(
    settings: ExecutorSettings,
    *,
    tracing: TracerProvider | None = None,
    blobs: BlobStore | None = None,
    devices: DeviceList | None = None,
) -> Service:
    service = build_service(NAME, settings, tracing, source=f"boxops/{NAME}/{settings.executor_id}")
    blobs = blobs or artifact_store(settings)
    cache = settings.home / "executor" / "cache"
    live = LiveAttempts(settings.home / "executor" / "live")
    reports = Reports(service.bus, settings.home / "executor" / "reports")
    inputs = Inputs(cache, blobs, settings.input_cache_max_bytes)
    ledger = Ledger(gpus(settings, devices or NvmlDevices()))
    ctx = Context(settings, service.bus, inputs, blobs, live, reports, ledger, NvmlMeter())
    workdirs = private_dir(settings.work_dirs())
    backends: dict[str, Backend] = {}
    if not settings.ray_address:
        backends["local"] = local_backend(settings, workdirs)
    executor = Executor(ctx, backends, workdirs)
    if blobs is not None:
        service.on_stop.append(blobs.close)
    if settings.ray_address:
        add_ray(service, settings, executor)

    async def connect_docker() -> None:
        if not settings.docker or settings.ray_address:
            return
        from services.executor.backends.docker import DockerBackend  # aiodocker only if used

        docker = await DockerBackend.connect(settings.docker_url, user=settings.docker_user)
        if docker is not None:
            backends["docker"] = docker
            service.on_stop.append(docker.close)

    service.on_start.append(connect_docker)
    service.on_start.append(executor.take_over)  # before the first dispatch and heartbeat
    dispatches = f"{NAME}-{settings.executor_id}"
    service.bus.consume(
        RunDispatched,
        durable=dispatches,
        subject=f"{RunDispatched.subject}.{settings.executor_id}",
    )(executor.on_dispatched)
    service.bus.consume(
        RunStopRequested,
        durable=f"{NAME}-{settings.executor_id}-stops",
        subject=f"{RunStopRequested.subject}.{settings.executor_id}",
    )(executor.on_stop_requested)

    async def stop_dispatches() -> None:
        await service.bus.stop_consumer(dispatches)

    # Taking no more dispatches before stopping the runs: one taken while they stop would
    # be refused and left to the next life, unlisted by the heartbeats in between.
    async def send_spooled() -> None:
        await reports.flush()

    # The runs' end reports go out last: what cannot go now is sent by the next life.
    service.before_stop += [executor.stop_taking, stop_dispatches, executor.stop_all, send_spooled]
    service.background += [
        executor.heartbeat_forever,
        executor.sweep_workdirs_forever,
        reports.send_forever,
    ]
    return service


def gpus(settings: ExecutorSettings, found: DeviceList) -> list[Device]:
    """The GPUs to offer: as BOXOPS_EXECUTOR_GPUS says, else those found, else as many ids
    as `gpu` counts (a host without NVML whose GPUs were typed in)."""
    devices = offered(settings.executor_gpus, found)
    if not devices and settings.executor_gpus is None:
        devices = [Device(id=str(i)) for i in range(settings.gpu)]
    log.info("GPUs offered: %s", ", ".join(d.id for d in devices) or "none")
    return devices


def add_ray(service: Service, settings: ExecutorSettings, executor: Executor) -> None:
    """A Ray-only executor: backend ray while its cluster answers, with the cluster's
    capacity; before the first dispatch, the cluster is asked once (take_over may attach)."""
    from services.executor.backends.ray import RayBackend  # ray only if used

    ray = RayBackend(
        settings.ray_address,
        python=settings.ray_python,
        gpu_resource=settings.ray_gpu_resource,
        artifact_token=settings.ray_artifact_token or settings.api_token,
    )

    def on_change(found: Capacity | None) -> None:
        if found is None:
            executor.backends.pop("ray", None)
            executor.capacity = Resources(cpu=0, memory_mb=0, gpu=0)
            return
        executor.backends["ray"] = ray
        executor.capacity = found.resources

    async def watch() -> None:
        await ray.watch_forever(on_change, settings.ray_poll_s)

    async def first_look() -> None:
        try:
            on_change(await ray.connect())
        except RayError as err:
            log.warning("%s; no ray backend until it answers (retrying)", err)

    service.on_start.append(first_look)
    service.background.append(watch)


def local_backend(settings: ExecutorSettings, workdirs: Path) -> LocalBackend:
    """Sandboxed as the settings say; without a usable sandbox, it refuses every run."""
    sandbox: Sandbox | Unavailable | None = None
    if settings.local_sandbox:
        secrets = [settings.home, workdirs, *settings.local_sandbox_hide]
        if runtime := os.environ.get("XDG_RUNTIME_DIR"):
            secrets.append(Path(runtime))
        if settings.nats_credentials:
            secrets.append(settings.nats_credentials)
        sandbox = Sandbox.find(secrets, settings.sdk_socket)
        if isinstance(sandbox, Unavailable):
            log.warning("local runs will be refused: %s", sandbox.reason)
    return LocalBackend(
        sandbox=sandbox, rlimit_memory=settings.local_rlimit_memory, cgroups=usable()
    )


def artifact_store(settings: ExecutorSettings) -> BlobStore | None:
    """The gateway's artifact API, once configured; None leaves runs without blobs."""
    if not settings.gateway_url:
        return None
    from services.executor.blobs import GatewayBlobs  # httpx only when configured

    return GatewayBlobs(settings.gateway_url, settings.api_token)
