"""A run's sampled usage through the whole stack: its `system/` points stored as any metric's
and watched by a monitor whose threshold starts a run; its peaks on its record, shown by
`boxops runs show` beside what it asked for."""

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from boxops.cli.common import console
from boxops.cli.runs import print_run
from services.executor.app import build_app as build_executor
from services.executor.settings import ExecutorSettings
from shared.service import Service
from tests.conftest import eventually
from tests.integration.conftest import Stack, start_stack, stop_stack, submit, wait_run
from tests.integration.test_triggers import apply, fired

HOLD = (
    "import os, time\nheld = b'\\x01' * (150 << 20)\n"
    "while not os.path.exists('release'): time.sleep(0.02)\n"
)
CEILING = """
kind: monitor
name: rss-ceiling
metric: system/memory_rss_mb
above: 100
"""
ON_CEILING = """
kind: trigger
name: on-rss-ceiling
target: {command: [echo, "{{ event.metric }} above"]}
event:
  subject: metric.above_threshold
  where: {monitor: rss-ceiling}
"""


@pytest.fixture
async def stack(nats_url: str, db: tuple[str, str], tmp_path: Path) -> AsyncIterator[Stack]:
    home = tmp_path / "home"
    running = await start_stack(nats_url, db, home, with_executor=False, services=("trigger",))
    settings = ExecutorSettings(
        nats_url=nats_url, home=home, executor_id="ex1", log_flush_s=0.02, executor_sample_s=0.2
    )
    running.executor = build_executor(settings)
    await running.executor.start()
    yield running
    await stop_stack(running)


def release(executor: Service, run_id: str) -> None:
    settings: ExecutorSettings = executor.settings  # type: ignore[assignment]
    (settings.work_dirs() / run_id / "attempt-1" / "work" / "release").touch()


async def test_a_monitor_on_the_rss_fires_and_the_run_records_its_peak(stack: Stack) -> None:
    await apply(stack, CEILING, "monitors")
    await apply(stack, ON_CEILING)
    run_id = await submit(stack.http, command=[sys.executable, "-c", HOLD])

    [firing] = await fired(stack, "on-rss-ceiling", 1, timeout=60)
    fired_run = await wait_run(stack.http, firing["run_id"], timeout=60)
    assert fired_run["command"] == ["echo", "system/memory_rss_mb above"]

    async def held() -> bool:
        metrics = (await stack.http.get(f"/v1/runs/{run_id}/metrics")).json()
        rss = metrics["series"].get("system/memory_rss_mb", [])
        return any(p["value"] >= 150 for p in rss)

    await eventually(held, timeout=60)  # stored as any metric's, read back through the API
    assert stack.executor is not None
    release(stack.executor, run_id)
    run = await wait_run(stack.http, run_id, timeout=60)

    assert run["state"] == "completed"
    assert run["usage"]["peak_rss_mb"] >= 150
    assert run["usage"]["cpu_seconds"] > 0
    with console.capture() as captured:
        print_run(run)
    [memory] = [line for line in captured.get().splitlines() if line.startswith("memory")]
    assert memory.startswith("memory    asked 512 MiB, peak 1")
