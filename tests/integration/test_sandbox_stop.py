"""A sandboxed local run stopped the moment it starts ends by its SIGTERM: the stop waits
until bubblewrap's init has forked the command (a namespace's init ignores SIGTERM)."""

import asyncio
from pathlib import Path

from services.executor.backends import Launch
from services.executor.backends.local import LocalBackend
from services.executor.backends.sandbox import Sandbox
from services.executor.contract import Layout


def laid_out(root: Path) -> Layout:
    for part in ("inputs", "outputs", "work", "sdk"):
        (root / part).mkdir(parents=True)
    (root / "params.json").write_text("{}")
    return Layout(root)


async def test_a_sandboxed_run_stopped_as_it_starts_ends_by_its_sigterm(tmp_path: Path) -> None:
    sandbox = Sandbox.find([])
    assert isinstance(sandbox, Sandbox), sandbox
    backend = LocalBackend(sandbox=sandbox)
    for attempt in range(3):  # each stop lands at another moment of the sandbox's setup
        host = laid_out(tmp_path / str(attempt))
        launch = Launch(run_id="r1", command=["sleep", "300"], env={}, host=host)
        run = await backend.start(launch)
        streaming = asyncio.create_task(run.stream(lambda _, __: None))
        await run.terminate(grace_s=60)  # a lost SIGTERM: SIGKILL only after a minute
        assert await run.wait() == -15
        await run.cleanup()
        streaming.cancel()
