"""Backends run a laid-out attempt somewhere: a local process group, a Docker container, a
Ray Job on a cluster (a remote backend: its node lays the attempt out and uploads itself).

Every backend honours the same run contract (see `services/executor/contract.py`), so the
contract tests run the same cases on each.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from services.executor.contract import Layout
from services.executor.ray_plan import Ended
from shared.events import Resources, RunDispatched

Sink = Callable[[str, bytes], None]  # (stream name, bytes read) → captured


class StartError(Exception):
    """The run could not be started; the text is the failed run's reason."""


@dataclass(frozen=True)
class Launch:
    """What a backend starts: the contract's parts, already prepared on the host."""

    run_id: str
    command: list[str]  # templates filled with the paths the run sees
    env: dict[str, str]  # the run's variables; a backend adds its own base (PATH…)
    host: Layout
    resources: Resources = field(default_factory=Resources)
    image: str | None = None
    network: bool = False
    mounts: dict[str, Path] = field(default_factory=dict)  # input name → external host path
    devices: tuple[str, ...] = ()  # the GPUs it holds, by id
    run: RunDispatched | None = None  # for a remote backend, which lays it out itself


class Running(Protocol):
    """A started run: its output, its exit and how to stop it."""

    pid: int | None
    left_behind: list[str]  # what still ran of it when it ended, killed: `name[pid]`

    async def stream(self, sink: Sink) -> None:
        """Feed the output to `sink` until both streams end."""

    async def wait(self) -> int:
        """The exit code, once the run ended."""

    async def terminate(self, grace_s: float) -> None:
        """SIGTERM, then SIGKILL after `grace_s`; returns once it has ended."""

    async def cleanup(self) -> None:
        """After the end: nothing of the run is left running (children, container)."""


@runtime_checkable
class Remote(Protocol):
    """A run on another machine: it uploaded its outputs itself and says how it ended."""

    failure: str | None  # why it has no exit code of its own (it did not run, Ray's reason)

    def uploaded(self) -> Ended | None:
        """What the run's node stored, once it ended (None: it said nothing)."""


class Backend(Protocol):
    name: str
    remote: bool  # the attempt is laid out elsewhere: no inputs here, outputs uploaded there

    def seen(self, host: Layout) -> Layout:
        """The attempt's paths as the run sees them."""

    async def start(self, launch: Launch) -> Running:
        """Start the run; raises StartError with a clear reason when it cannot."""
