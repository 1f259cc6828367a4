"""A local run's leader process, reaped by its run alone, through a pidfd (Linux 5.4+).

Its exit is learnt without reaping it (`waitid(P_PIDFD, …, WNOWAIT)`): until it is reaped
its pid, and so its process group's id, cannot be given to another process. Its group is
signalled only in that time; once reaped, the id may be another's, and a signal to it
could kill processes that have nothing to do with the run.
"""

import asyncio
import contextlib
import os
import signal
import subprocess


async def exited(pid: int, *, within: float) -> None:
    """Return once the process `pid` has exited (a zombie counts), or after `within` s."""
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return  # gone already
    loop = asyncio.get_running_loop()
    readable: asyncio.Future[None] = loop.create_future()

    def on_exit() -> None:
        if not readable.done():
            readable.set_result(None)

    loop.add_reader(fd, on_exit)
    try:
        await asyncio.wait_for(readable, within)
    except TimeoutError:
        pass
    finally:
        loop.remove_reader(fd)
        os.close(fd)


class Leader:
    def __init__(self, process: "subprocess.Popen[bytes]", leaders: set[int]) -> None:
        self.process = process
        self.pid = process.pid
        self.reaped = False
        self.leaders = leaders  # the leaders not reaped yet: no orphan reaping takes them
        leaders.add(self.pid)
        # Opened before anything could reap it: nothing but this object waits for it.
        self._fd = os.pidfd_open(process.pid)
        loop = asyncio.get_running_loop()
        self._exited: asyncio.Future[int] = loop.create_future()
        loop.add_reader(self._fd, self._on_exit)

    @property
    def exited(self) -> bool:
        return self._exited.done()

    async def exit_code(self) -> int:
        """Once it has exited (it is not reaped by this): its code, -N for signal N."""
        return await asyncio.shield(self._exited)

    def signal_group(self, sig: signal.Signals) -> None:
        """Signal its process group, only while the leader is not reaped."""
        if self.reaped:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    def reap(self) -> None:
        """Reap the exited leader: its pid (and group id) may be reused from now on."""
        if self.reaped or not self.exited:
            return
        os.waitid(os.P_PIDFD, self._fd, os.WEXITED)
        self.reaped = True
        self.leaders.discard(self.pid)
        self.process.returncode = self._exited.result()  # Popen must never wait for it again
        os.close(self._fd)

    def _on_exit(self) -> None:
        exited = os.waitid(os.P_PIDFD, self._fd, os.WEXITED | os.WNOWAIT | os.WNOHANG)
        if exited is None:
            return  # not yet: the pidfd turns readable at the exit
        asyncio.get_running_loop().remove_reader(self._fd)
        killed = exited.si_code in (os.CLD_KILLED, os.CLD_DUMPED)
        self._exited.set_result(-exited.si_status if killed else exited.si_status)
