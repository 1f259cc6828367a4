"""A tuner killed with SIGKILL in the middle of a sweep, and started again: the sweep ends
with exactly `trials` trials, none asked for twice and none lost."""

import asyncio
import signal
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats
import pytest

from tests.conftest import eventually, service_db
from tests.integration.conftest import Stack, start_stack, stop_stack, submit, wait_run
from tests.integration.processes import answers, start_service
from tests.integration.test_component_runs import register
from tests.integration.test_sweeps import ECHO, sweep, trials

TRIALS = 30


@pytest.fixture
async def stack(nats_url: str, db: tuple[str, str], tmp_path: Path) -> AsyncIterator[Stack]:
    running = await start_stack(nats_url, db, tmp_path / "home", services=("registry",))
    await register(running, ECHO)
    yield running
    await stop_stack(running)


async def test_a_sweep_survives_its_tuner_killed_mid_search(
    stack: Stack, nats_url: str, db: tuple[str, str], tmp_path: Path
) -> None:
    url, schema = service_db(db, "tuner")
    settings: dict[str, Any] = {"nats_url": nats_url, "db_url": url, "db_schema": schema}
    home = tmp_path / "tuner"
    tuner = start_service("tuner", home, **settings)
    client = await nats.connect(nats_url)
    try:
        await eventually(lambda: answers(client, "tuner"), timeout=60)
        space = "x: {type: float, low: 0, high: 1}"
        text = sweep("long", space, trials=TRIALS, parallel=4, sampler="random")
        await register(stack, text, "sweeps")
        sweep_id = await submit(stack.http, sweep="long", params={"nap": 0.2})

        async def some_asked() -> bool:
            return len(await trials(stack, sweep_id)) >= 8

        await eventually(some_asked, timeout=120)
        tuner.send_signal(signal.SIGKILL)  # in the middle of telling and asking
        await asyncio.to_thread(tuner.wait, 10)
        tuner = start_service("tuner", home, **settings)

        run = await wait_run(stack.http, sweep_id, timeout=240)
        assert run["state"] == "completed", run
        children = await trials(stack, sweep_id)
        assert sorted(c["id"] for c in children) == sorted(
            f"{sweep_id}-t{n}" for n in range(TRIALS)
        )
        # On a loaded machine a trial may fail ("executor lost"): it counts, as failed.
        ended = Counter(c["state"] for c in children)
        assert set(ended) <= {"completed", "failed"}
        counts = f"({ended['completed']} completed, {ended['failed']} failed, 0 pruned)"
        assert counts in run["reason"]
    finally:
        await client.close()
        if tuner.poll() is None:
            tuner.terminate()
            await asyncio.to_thread(tuner.wait, 20)
