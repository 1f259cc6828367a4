"""The local backend's sandbox: bubblewrap (bwrap) runs a command with the host's files
read-only, its own /tmp, /dev and /proc (its own process namespace), its own network
namespace unless it asks for the network, no capabilities, the platform's paths (home,
other runs, `hide`) out of sight, and only the run's outputs, work and SDK dirs writable.

Process handling through the sandbox: bwrap forks an init (pid 1 of the namespace, in a
session and process group of its own: `--new-session`) that forks the command. A stop sends
SIGTERM to that group, so the command can end gracefully; SIGKILL to bwrap takes the whole
namespace down (`--die-with-parent`; the kernel kills a namespace whose init died), children
that left the group included. bwrap exits with 128 + N when the command died of signal N;
`exit_code` turns that back into -N, as a local run without the sandbox reports it.
"""

import asyncio
import contextlib
import glob
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import psutil

from services.executor.backends import StartError
from services.executor.contract import Layout

ISOLATE = [
    "--ro-bind", "/", "/",
    "--dev", "/dev",
    "--proc", "/proc",
    "--tmpfs", "/tmp",  # noqa: S108 (the sandbox's own, empty /tmp)
    "--unshare-pid", "--unshare-ipc",
    "--die-with-parent", "--new-session",
    "--cap-drop", "ALL",
]  # fmt: skip
# A network namespace of its own (only loopback, its own): no host port, no abstract Unix
# socket of the host, unless the run asks for the network (`network: true`).
NO_NETWORK = ["--unshare-net"]
GPU_DEVICES = ("/dev/nvidia*", "/dev/dri")
SIGNALS = 64  # the highest signal number on Linux


@dataclass(frozen=True)
class Unavailable:
    """No usable sandbox; the reason is a local run's refusal."""

    reason: str


@dataclass(frozen=True)
class Sandbox:
    bwrap: str
    hidden: tuple[Path, ...]  # home, the other runs, and more paths a run must not see
    sdk_socket: Path | None = None  # the gateway's, for a run without the network

    @classmethod
    def find(cls, hide: Iterable[Path], sdk_socket: Path | None = None) -> "Sandbox | Unavailable":
        """bwrap on PATH, if it can make a sandbox here (it needs user or pid namespaces)."""
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            return Unavailable(
                "local runs need bubblewrap (bwrap) for their sandbox, and this executor has none:"
                " install it, or set BOXOPS_LOCAL_SANDBOX=false to run them unsandboxed"
            )
        probe = subprocess.run(  # noqa: S603 (a fixed command)
            [bwrap, *ISOLATE, *NO_NETWORK, "--", "true"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if probe.returncode != 0:
            return Unavailable(f"bubblewrap cannot make a sandbox here: {probe.stderr.strip()}")
        return cls(bwrap, tuple(dict.fromkeys(path.resolve() for path in hide)), sdk_socket)

    def wrap(
        self,
        command: list[str],
        host: Layout,
        *,
        status_fd: int,
        gpu: bool,
        network: bool,
        program: str,
    ) -> list[str]:
        return [
            self.bwrap,
            *ISOLATE,
            *([] if network else NO_NETWORK),
            *_named_under_tmp([program, *command]),
            *self._hiding(),
            *self._gateway(),
            *self._external_inputs(host),
            *_attempt(host),
            *[arg for device in _gpu_devices(gpu) for arg in ("--dev-bind", device, device)],
            "--chdir", str(host.work),
            "--json-status-fd", str(status_fd),
            "--", *command,
        ]  # fmt: skip

    def _hiding(self) -> list[str]:
        """An empty tmpfs over a hidden directory, /dev/null over a hidden file (as they are
        now: home may have been made after the executor started)."""
        args = []
        for path in self.hidden:
            if path.is_dir():
                args += ["--tmpfs", str(path)]
            elif path.exists():
                args += ["--ro-bind", "/dev/null", str(path)]
        return args

    def _gateway(self) -> list[str]:
        """The gateway's socket where the gateway has it (over anything hidden), once it
        listens: the SDK's way to the platform, network or not."""
        socket = self.sdk_socket
        return ["--bind", str(socket), str(socket)] if socket and socket.is_socket() else []

    def sdk_env(self) -> dict[str, str]:
        return {"BOXOPS_API_SOCKET": str(self.sdk_socket)} if self.sdk_socket else {}

    def _external_inputs(self, host: Layout) -> list[str]:
        """An external file:// input is a link out of inputs/: its target, read-only, unless
        that would show a hidden path."""
        args = []
        for link in Path(host.inputs).iterdir():
            if not link.is_symlink():
                continue
            target = link.resolve()
            if any(_overlap(target, hidden) for hidden in self.hidden):
                raise StartError(f"input {link.name!r}: {target} is hidden from runs")
            args += ["--ro-bind", str(target), str(target)]
        return args


def _overlap(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents


def _named_under_tmp(paths: list[str]) -> list[str]:
    """The sandbox's /tmp is its own, empty. A program or file the command names under the
    host's /tmp (a checkout, a virtualenv kept there) is shown read-only, by its top folder
    there; what is hidden stays hidden (its mounts come after)."""
    tops: list[str] = []
    for path in paths:
        parts = Path(path).parts  # ("/", "tmp", top, …)
        if len(parts) > 2 and parts[:2] == ("/", "tmp"):
            top = str(Path(*parts[:3]))
            if Path(top).exists() and top not in tops:
                tops.append(top)
    return [arg for top in tops for arg in ("--ro-bind", top, top)]


def _attempt(host: Layout) -> list[str]:
    """The parts of the contract the run sees (not the executor's logs.jsonl beside them)."""
    return [
        "--ro-bind", str(host.params), str(host.params),
        "--ro-bind", str(host.inputs), str(host.inputs),
        "--bind", str(host.outputs), str(host.outputs),
        "--bind", str(host.work), str(host.work),
        "--bind", str(host.sdk), str(host.sdk),
    ]  # fmt: skip


def _gpu_devices(gpu: bool) -> list[str]:
    return sorted(p for pattern in GPU_DEVICES for p in glob.glob(pattern)) if gpu else []


def exit_code(code: int) -> int:
    """bwrap's 128 + N for a command killed by signal N, as -N (a plain exit stays)."""
    return -(code - 128) if 128 < code <= 128 + SIGNALS else code


class Status:
    """bwrap's status pipe, read to its end (bwrap dies of SIGPIPE writing to a closed one).
    Its first line names the process group of the sandboxed command: that of bwrap's init
    ({"child-pid": N}); None if bwrap died before it made one."""

    def __init__(self, fd: int) -> None:
        self.group: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self.reading = asyncio.create_task(self._read(fd))

    async def _read(self, fd: int) -> None:
        reader = asyncio.StreamReader()
        protocol = asyncio.StreamReaderProtocol(reader)
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await loop.connect_read_pipe(lambda: protocol, os.fdopen(fd, "rb", 0))
            try:
                self.group.set_result(_child_pid(await reader.readline()))
                while await reader.read(4096):
                    pass
            finally:
                transport.close()
        finally:
            if not self.group.done():
                self.group.set_result(None)


def _child_pid(line: bytes) -> int | None:
    try:
        return int(json.loads(line)["child-pid"])
    except (ValueError, KeyError, TypeError):
        return None


async def command_started(init: int, *, ended: Callable[[], bool]) -> None:
    """Return once bwrap's init has forked the command (or bwrap has `ended`). Until then a
    SIGTERM to init's group reaches init alone, and a pid namespace's init ignores it (it
    has no handler): the run would go on until its SIGKILL."""
    while not ended():
        try:
            if psutil.Process(init).children():
                return
        except psutil.Error:
            return  # init has gone: the namespace with it
        await asyncio.sleep(0.01)


def signal_group(group: int | None, sig: signal.Signals) -> None:
    if group is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, sig)
