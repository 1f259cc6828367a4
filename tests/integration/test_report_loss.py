"""An executor's reports survive a NATS blip: each is spooled before it is sent and sent
again until JetStream has it, so a run that ends while the executor's link to NATS is
down still ends `completed`, with what it reported, once."""

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlparse

import nats
import pytest

from tests.conftest import eventually
from tests.integration.conftest import Stack, submit, wait_run
from tests.integration.processes import answers, start_service
from tests.integration.tcp_proxy import Proxy

HEARTBEAT_S = 10.0  # lost after 3 beats (30 s): the blip below is shorter than that


@pytest.fixture
async def proxy(nats_url: str) -> AsyncIterator[Proxy]:
    link = Proxy(urlparse(nats_url).port or 4222)
    await link.open()
    yield link
    await link.cut()


@pytest.fixture
async def executor(proxy: Proxy, tmp_path: Path) -> AsyncIterator[subprocess.Popen[bytes]]:
    process = start_service(
        "executor",
        tmp_path / "executor",
        nats_url=proxy.url,
        executor_id="behind-a-proxy",
        heartbeat_s=HEARTBEAT_S,
        local_sandbox=False,
    )
    yield process
    process.terminate()
    await asyncio.to_thread(process.wait, 20)  # the proxy runs on this loop meanwhile


async def test_a_run_ending_while_its_executor_cannot_reach_nats_completes_once(
    scheduler_side: Stack,
    proxy: Proxy,
    executor: subprocess.Popen[bytes],
    nats_url: str,
    tmp_path: Path,
) -> None:
    stack = scheduler_side
    client = await nats.connect(nats_url)
    try:
        await eventually(lambda: answers(client, "executor"), timeout=60)
    finally:
        await client.close()
    gate = tmp_path / "go"
    script = (
        f"while [ ! -e {gate} ]; do sleep 0.05; done; "
        "echo '::param name=spooled value=yes'; echo '::metric name=acc value=0.75'"
    )
    run_id = await submit(stack.http, command=["sh", "-c", script])
    await wait_run(stack.http, run_id, ("running",), timeout=60)

    await proxy.cut()
    gate.touch()  # the run ends now; its end report cannot reach NATS
    spool = tmp_path / "executor" / "executor" / "reports"

    async def spooled() -> bool:
        return any(spool.glob("*.json"))

    await eventually(spooled, timeout=30)
    assert (await stack.http.get(f"/v1/runs/{run_id}")).json()["state"] == "running"
    await proxy.open()

    run = await wait_run(stack.http, run_id, timeout=60)
    assert (run["state"], run["reason"]) == ("completed", "exit code 0"), run
    assert run["reported_params"].get("spooled") == "yes", run

    async def sent() -> bool:
        return not any(spool.glob("*.json"))

    await eventually(sent, timeout=30)
    history = (await stack.http.get(f"/v1/runs/{run_id}")).json()["history"]
    assert [h["state"] for h in history].count("completed") == 1, history
