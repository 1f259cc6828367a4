"""The Docker backend (aiodocker): a run is a container of the run's image.

Inputs are mounted read-only, outputs, work and SDK dirs read-write, the rest of the
container's file system is read-only but for a private /tmp; network is off unless the run
asks for it; cpu, memory and pids limits and GPU device requests come from its resources;
it runs as an unprivileged user (the executor's docker_user), never privileged, with no
capabilities and no new privileges. The container is stopped on abort or timeout and
removed once its end is recorded.
"""

import asyncio
import contextlib
import struct
from pathlib import Path, PurePosixPath
from typing import Any

import aiodocker
from aiodocker.containers import DockerContainer

from services.executor.backends import Launch, Sink, StartError
from services.executor.contract import Layout

INSIDE = Layout(PurePosixPath("/boxops"))
STREAMS = {1: "stdout", 2: "stderr"}
HEADER = 8


class DockerRun:
    def __init__(self, docker: aiodocker.Docker, container: DockerContainer) -> None:
        self.docker = docker
        self.container = container
        self.pid: int | None = None
        self.left_behind: list[str] = []  # a container's end ends all of its processes

    async def stream(self, sink: Sink) -> None:
        """Read the multiplexed log stream (8-byte frame headers name stdout or stderr)."""
        params = {"stdout": "1", "stderr": "1", "follow": "1"}
        timeout = self.docker._resolve_long_running_timeout(None)
        query = self.docker._query(
            f"containers/{self.container.id}/logs", params=params, timeout=timeout
        )
        async with query as response:
            content = response.content
            while True:
                try:
                    header = await content.readexactly(HEADER)
                    kind, length = struct.unpack(">BxxxL", header)
                    data = await content.readexactly(length)
                except asyncio.IncompleteReadError:
                    return
                sink(STREAMS.get(kind, "stdout"), data)

    async def wait(self) -> int:
        result = await self.container.wait(timeout=None)
        return int(result.get("StatusCode", -1))

    async def terminate(self, grace_s: float) -> None:
        with contextlib.suppress(aiodocker.DockerError):
            # Docker sends SIGTERM, then SIGKILL after t seconds.
            await self.container.stop(t=max(0, round(grace_s)), timeout=grace_s + 30)

    async def cleanup(self) -> None:
        with contextlib.suppress(aiodocker.DockerError):
            await self.container.delete(force=True)


def _writable_by_anyone(host: Layout) -> None:
    """A non-root container user must write its outputs, work and SDK dirs (its own only)."""
    outputs = Path(host.outputs)
    for path in [outputs, *outputs.iterdir(), Path(host.work), Path(host.sdk)]:
        path.chmod(0o777)


class DockerBackend:
    name = "docker"
    remote = False

    def __init__(self, docker: aiodocker.Docker, *, user: str = "") -> None:
        self.docker = docker
        self.user = user

    @classmethod
    async def connect(cls, url: str | None = None, *, user: str = "") -> "DockerBackend | None":
        """The backend, if a Docker daemon answers at url (default: the usual socket)."""
        try:
            docker = aiodocker.Docker(url=url or None)
        except AssertionError:  # aiodocker's way of saying it found no daemon socket at all
            return None
        try:
            await asyncio.wait_for(docker.version(), 3)
        except (aiodocker.DockerError, OSError, TimeoutError, ValueError):
            await docker.close()
            return None
        return cls(docker, user=user)

    async def close(self) -> None:
        await self.docker.close()

    def seen(self, host: Layout) -> Layout:
        return INSIDE

    async def start(self, launch: Launch) -> DockerRun:
        if not launch.image:
            raise StartError("the docker backend needs an image, and the run names none")
        if self.user:
            await asyncio.to_thread(_writable_by_anyone, launch.host)
        try:
            container = await self.docker.containers.create(
                self.config(launch), name=f"boxops-{launch.run_id}-{launch.host.root.name}"[:128]
            )
        except aiodocker.DockerError as err:
            raise StartError(self._why(launch, err)) from None
        try:
            await container.start()
        except aiodocker.DockerError as err:
            with contextlib.suppress(aiodocker.DockerError):
                await container.delete(force=True)
            raise StartError(f"cannot start container: {err.message}") from None
        return DockerRun(self.docker, container)

    @staticmethod
    def _why(launch: Launch, err: aiodocker.DockerError) -> str:
        if err.status == 404 and "image" in err.message.lower():
            return f"image {launch.image!r} not found on this executor: {err.message}"
        return f"cannot create container: {err.message}"

    def config(self, launch: Launch) -> dict[str, Any]:
        host, inside = launch.host, INSIDE
        binds = [
            f"{host.params}:{inside.params}:ro",
            f"{host.inputs}:{inside.inputs}:ro",
            f"{host.outputs}:{inside.outputs}:rw",
            f"{host.work}:{inside.work}:rw",
            f"{host.sdk}:{inside.sdk}:rw",
        ] + [f"{path}:{inside.inputs / name}:ro" for name, path in launch.mounts.items()]
        resources = launch.resources
        host_config: dict[str, Any] = {
            "Binds": binds,
            "NetworkMode": "default" if launch.network else "none",
            "Privileged": False,
            "SecurityOpt": ["no-new-privileges"],
            "CapDrop": ["ALL"],
            "ReadonlyRootfs": True,
            "Tmpfs": {"/tmp": "rw,nosuid,nodev"},  # noqa: S108 (the container's own)
            "NanoCpus": int(resources.cpu * 1e9) if resources.cpu else 0,
            "Memory": resources.memory_mb * 1024 * 1024,
            "MemorySwap": resources.memory_mb * 1024 * 1024,  # no swap beyond the limit
            "PidsLimit": resources.pids,
            # "local" (not json-file): a flood of output costs dockerd far less to keep.
            "LogConfig": {"Type": "local", "Config": {"max-size": "64m", "max-file": "2"}},
        }
        if resources.gpu:
            host_config["DeviceRequests"] = [
                # Its own devices, by id: the executor's ledger knows which are busy.
                {"Driver": "", "DeviceIDs": list(launch.devices), "Capabilities": [["gpu"]]}
            ]
        config: dict[str, Any] = {
            "Image": launch.image,
            "Cmd": launch.command,
            # A HOME it can write (caches, dotfiles), unless the run names its own.
            "Env": [f"{k}={v}" for k, v in ({"HOME": "/tmp"} | launch.env).items()],  # noqa: S108
            "WorkingDir": str(inside.work),
            "Labels": {"boxops.run": launch.run_id},
            "AttachStdin": False,
            "Tty": False,
            "HostConfig": host_config,
        }
        if self.user:
            config["User"] = self.user
        return config
