"""The local backend: a run is a subprocess in its own process group and work dir, in a
bubblewrap sandbox (`sandbox.py`) unless the executor is told to run it unsandboxed.

Limits: with a writable cgroup v2 hierarchy (`/sys/fs/cgroup`, memory and cpu controllers)
each run gets its own cgroup with `memory.max` and `cpu.max`; without one, memory can be
capped as address space (RLIMIT_AS, opt-in: `BOXOPS_LOCAL_RLIMIT_MEMORY=true`) and the CPU
share is not enforced.
"""

import asyncio
import os
import resource
import shutil
import signal
import subprocess
from pathlib import Path
from typing import IO

from services.executor import reaper
from services.executor.backends import Launch, Sink, StartError
from services.executor.backends.cgroups import Cgroup
from services.executor.backends.leader import Leader, exited
from services.executor.backends.sandbox import (
    Sandbox,
    Status,
    Unavailable,
    command_started,
    exit_code,
    signal_group,
)
from services.executor.contract import Layout

READ = 64 * 1024
NAMESPACE_END_S = 2.0


class LocalRun:
    def __init__(
        self,
        leader: Leader,
        cgroup: Cgroup | None,
        launch: Launch,
        pipes: list[tuple[str, asyncio.StreamReader, asyncio.BaseTransport]],
        leaders: set[int],
    ) -> None:
        self.leader = leader
        self.leaders = leaders  # every run's leader not reaped yet: each its run's to reap
        self.pid: int | None = leader.pid
        self.cgroup = cgroup
        self.pipes = pipes
        self.belongs = reaper.of_run(launch.run_id, int(launch.env.get("BOXOPS_ATTEMPT", "1")))
        self.left_behind: list[str] = []
        self.sandbox: Status | None = None  # in a sandbox: what bwrap says of it

    async def stream(self, sink: Sink) -> None:
        await asyncio.gather(*(_pump(reader, name, sink) for name, reader, _ in self.pipes))

    async def wait(self) -> int:
        # Waiting for the pipes to close would wait for children the run left behind
        # (they hold them open): the leader's exit ends the run, and whatever it left is
        # killed while the leader, not yet reaped, keeps its group's id from being reused
        # (in a sandbox, bwrap's end takes its whole process namespace with it).
        code = await self.leader.exit_code()
        if self.sandbox and (init := await self.sandbox.group):
            # bwrap's init, its namespace's pid 1, dies with bwrap: once it is gone, so is
            # all in the namespace, and none of it is taken for a process left behind.
            await exited(init, within=NAMESPACE_END_S)
        self.left_behind = await asyncio.to_thread(
            reaper.kill_left_behind, self.belongs, session=self.leader.pid
        )
        self._kill_group(signal.SIGKILL)  # without a subreaper, its group at least
        # Escaped processes that ended on their own before the run did: reaped, not left
        # as zombies under the executor until it exits.
        reaper.reap_adopted(keep=self.leaders)
        self.leader.reap()
        return exit_code(code) if self.sandbox else code

    async def terminate(self, grace_s: float) -> None:
        try:
            await asyncio.wait_for(self._ask_to_end(), grace_s)
        except TimeoutError:
            self._kill_group(signal.SIGKILL)
            await self.leader.exit_code()

    async def _ask_to_end(self) -> None:
        """SIGTERM, and wait for the leader's exit."""
        if self.sandbox:
            # Not bwrap itself: the command's group, so that it may end gracefully. Only
            # while bwrap lives, as its group's id may be another's once it has ended.
            group = await self.sandbox.group
            if group is not None:
                await command_started(group, ended=lambda: self.leader.exited)
            if not self.leader.exited:
                signal_group(group, signal.SIGTERM)
        else:
            self._kill_group(signal.SIGTERM)
        await self.leader.exit_code()

    async def cleanup(self) -> None:
        if not self.leader.reaped:  # wait() did not get so far (an error, a cancel)
            self._kill_group(signal.SIGKILL)
            await self.leader.exit_code()
            self.leader.reap()
        if self.cgroup:
            self.cgroup.kill()  # those that left the group (setsid) are still in the cgroup
        for _, _, transport in self.pipes:
            transport.close()  # a pipe a killed child held open is at its end
        if self.sandbox:
            await self.sandbox.reading  # bwrap has ended: its status pipe is at its end
        if self.cgroup:
            await self.cgroup.remove()

    def _kill_group(self, sig: signal.Signals) -> None:
        self.leader.signal_group(sig)  # only while the leader is not reaped
        if self.cgroup:
            self.cgroup.kill()


async def _reading(
    name: str, pipe: IO[bytes]
) -> tuple[str, asyncio.StreamReader, asyncio.BaseTransport]:
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
    return name, reader, transport


async def _pump(stream: asyncio.StreamReader, name: str, sink: Sink) -> None:
    while chunk := await stream.read(READ):
        sink(name, chunk)


class LocalBackend:
    name = "local"
    remote = False

    def __init__(
        self,
        *,
        sandbox: Sandbox | Unavailable | None,
        rlimit_memory: bool = False,
        cgroups: Path | None = None,
    ) -> None:
        self.sandbox = sandbox  # None: runs are not sandboxed, as the settings allow
        self.rlimit_memory = rlimit_memory
        self.cgroups = cgroups
        self.leaders: set[int] = set()  # of the runs it started, the leaders not yet reaped

    def seen(self, host: Layout) -> Layout:
        return host

    async def start(self, launch: Launch) -> LocalRun:
        if isinstance(self.sandbox, Unavailable):
            raise StartError(self.sandbox.reason)
        if self.sandbox is None:
            return await self._spawn(launch, launch.command, _base_env() | launch.env)
        # Its /tmp is its own: the executor's TMPDIR would be missing or read-only there.
        # No session sockets either (hidden from it; their addresses are not passed on).
        base = {k: v for k, v in _base_env().items() if k not in SESSION_SOCKETS}
        env = base | {"TMPDIR": "/tmp"} | launch.env  # noqa: S108
        if "BOXOPS_RUN_TOKEN" in env:  # the SDK may talk to the gateway: through its socket
            env |= self.sandbox.sdk_env()
        program = _check_found(launch.command[0], env, Path(launch.host.work))
        status, status_w = os.pipe()
        gpu = bool(launch.resources.gpu)
        command = self.sandbox.wrap(
            launch.command,
            launch.host,
            status_fd=status_w,
            gpu=gpu,
            network=launch.network,
            program=program,
        )
        try:
            run = await self._spawn(launch, command, env, pass_fds=(status_w,))
        except BaseException:
            os.close(status)
            raise
        finally:
            os.close(status_w)
        run.sandbox = Status(status)
        return run

    async def _spawn(
        self,
        launch: Launch,
        command: list[str],
        env: dict[str, str],
        pass_fds: tuple[int, ...] = (),
    ) -> LocalRun:
        cgroup = Cgroup.create(self.cgroups, launch.run_id, launch.resources)
        memory = launch.resources.memory_mb * 1024 * 1024 if self.rlimit_memory else None

        def in_child() -> None:  # runs in the child between fork and exec
            if cgroup:
                cgroup.join()
            if memory and not cgroup:
                resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

        try:
            # Not asyncio's subprocess: its child watcher reaps the leader at its exit, and
            # the run must still signal the leader's group then (see leader.py).
            # Started in the loop as asyncio starts its own: a fork and exec, not a wait.
            process = subprocess.Popen(  # noqa: S603, ASYNC220 (the run's own command)
                command,
                cwd=launch.host.work,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # its own process group, so a stop reaches its children
                preexec_fn=in_child if (cgroup or memory) else None,
                pass_fds=pass_fds,
            )
        except OSError as err:
            if cgroup:
                await cgroup.remove()
            raise StartError(f"cannot start {command[0]!r}: {err.strerror}") from None
        # Before any await: a leader that exits at once is known as one, not as an orphan.
        leader = Leader(process, self.leaders)
        assert process.stdout and process.stderr  # noqa: S101
        pipes = [
            await _reading("stdout", process.stdout),
            await _reading("stderr", process.stderr),
        ]
        return LocalRun(leader, cgroup, launch, pipes, self.leaders)


def _check_found(program: str, env: dict[str, str], cwd: Path) -> str:
    """Where the program is. In the sandbox, bwrap would fail to find it with an error of
    its own: it is looked up here, to fail as a local run without the sandbox does."""
    if "/" in program:
        path = cwd / program
        found = str(path) if path.is_file() else None
    else:
        found = shutil.which(program, path=env.get("PATH", os.defpath))
    if found is None:
        raise StartError(f"cannot start {program!r}: No such file or directory")
    return found


# Variables that point a process at the user's session (D-Bus, ssh-agent, GPG agent, the
# runtime dir with their sockets): a sandboxed run gets none of them.
SESSION_SOCKETS = frozenset(
    {"DBUS_SESSION_BUS_ADDRESS", "SSH_AUTH_SOCK", "GPG_AGENT_INFO", "XDG_RUNTIME_DIR"}
)


def _base_env() -> dict[str, str]:
    """The executor's environment without its own BOXOPS_* settings (and secrets)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
