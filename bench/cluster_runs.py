"""The run path on a replicated bus against one server: the same 200 runs of `true` (see
bench/runs.py) through a scheduler, an executor and a gateway started as processes, on a
loopback NATS of one node and then a three-node cluster with streams R3 (boxops/nats_cluster.py;
no bus authorization either way, SQLite)."""

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import nats

from bench.runs import run_path
from boxops.nats_cluster import NatsCluster, free_port, start_cluster


async def main() -> None:
    for size in (1, 3):
        with tempfile.TemporaryDirectory() as directory:
            cluster = start_cluster(Path(directory) / "nats", size)
            try:
                await cluster.ready()
                await _measure(cluster, Path(directory) / "home", size)
            finally:
                cluster.stop()


async def _measure(cluster: NatsCluster, home: Path, size: int) -> None:
    port = free_port()
    processes = _services(cluster, home, port, replicas=size)
    bus = await nats.connect(cluster.url.split(","))
    try:
        await _wait_http(f"http://127.0.0.1:{port}/healthz")
        await _warm_up(f"http://127.0.0.1:{port}")
        label = f"{size} node{'s' if size > 1 else ''} R{size}: "
        await run_path(bus, f"http://127.0.0.1:{port}", {}, label)
    finally:
        await bus.close()
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)


def _services(
    cluster: NatsCluster, home: Path, port: int, replicas: int
) -> list[subprocess.Popen[bytes]]:
    home.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    env |= {
        "BOXOPS_HOME": str(home),
        "BOXOPS_NATS_URL": cluster.url,
        "BOXOPS_NATS_REPLICAS": str(replicas),
        "BOXOPS_PORT": str(port),
        "BOXOPS_EXECUTOR_ID": "bench",
    }
    processes = []
    for name in ("scheduler", "executor", "gateway"):
        log = (home / f"{name}.log").open("ab")
        command = [sys.executable, "-m", f"services.{name}"]
        processes.append(subprocess.Popen(command, env=env, stdout=log, stderr=log))
    return processes


async def _wait_http(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            try:
                if (await http.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{url} did not answer in {timeout} s")


async def _warm_up(gateway_url: str, timeout: float = 120) -> None:
    """One run through every service, so the figures leave out their first start-up."""
    async with httpx.AsyncClient(base_url=gateway_url, timeout=60) as http:
        run_id = (await http.post("/v1/runs", json={"command": ["true"]})).json()["id"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = await http.get(f"/v1/runs/{run_id}")
            if run.status_code == 200 and run.json()["state"] == "completed":
                return
            await asyncio.sleep(0.2)
    raise TimeoutError(f"the warm-up run did not complete in {timeout} s")
