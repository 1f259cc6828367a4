"""A real two-node Ray cluster on loopback, for the ray backend's tests.

A head (2 CPUs) and a second node on the same host with one `fakegpu`, standing for a GPU
(the executor is told `ray_gpu_resource=fakegpu`). Each node names 127.0.0.1 as its address
and has its own dashboard agent port (without them, job logs fail with "Port out of
range"); the cluster has a temp dir of its own and free ports. Every process it starts
carries a variable naming that temp dir, so the fixture kills exactly its own processes at
the end (`ray stop` would stop every Ray cluster on the machine).
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

MARK = "BOXOPS_TEST_RAY_CLUSTER"
START_S = 120.0


@dataclass(frozen=True)
class LoopbackRay:
    address: str  # the dashboard (job API) URL
    gcs: str  # host:port of the head
    temp_dir: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ray_env(temp_dir: Path) -> dict[str, str]:
    """The test's environment (its PYTHONPATH: the code under test on the nodes too), with
    this interpreter's bin first on PATH so that a job's `python` is ours."""
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ) | {MARK: str(temp_dir), "RAY_USAGE_STATS_ENABLED": "0"}
    env["TMPDIR"] = str(temp_dir)  # not a test's own temp dir, which goes with the test
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', os.defpath)}"
    return env


def ray_start(args: list[str], env: dict[str, str], log: Path) -> None:
    ray = str(Path(sys.executable).parent / "ray")
    with log.open("ab") as out:
        done = subprocess.run(
            [ray, "start", *args], env=env, stdout=out, stderr=subprocess.STDOUT, timeout=START_S
        )
    if done.returncode != 0:
        raise RuntimeError(f"ray start failed:\n{log.read_text()[-3000:]}")


def start_cluster(fake_gpus: int = 1) -> LoopbackRay:
    temp_dir = Path(tempfile.mkdtemp(prefix="bxr", dir="/tmp"))
    env, log = ray_env(temp_dir), temp_dir / "start.log"
    port, dashboard = free_port(), free_port()
    common = ["--node-ip-address=127.0.0.1", f"--temp-dir={temp_dir}", "--disable-usage-stats"]
    try:
        ray_start(
            [
                "--head",
                f"--port={port}",
                "--dashboard-host=127.0.0.1",
                f"--dashboard-port={dashboard}",
                f"--dashboard-agent-listen-port={free_port()}",
                f"--ray-client-server-port={free_port()}",
                "--num-cpus=2",
                "--num-gpus=0",
                *common,
            ],
            env,
            log,
        )
        ray_start(
            [
                f"--address=127.0.0.1:{port}",
                f"--dashboard-agent-listen-port={free_port()}",
                "--num-cpus=1",
                "--num-gpus=0",
                f'--resources={{"fakegpu": {fake_gpus}}}',
                *common,
            ],
            env,
            log,
        )
        cluster = LoopbackRay(f"http://127.0.0.1:{dashboard}", f"127.0.0.1:{port}", temp_dir)
        wait_for_nodes(cluster, 2)
    except BaseException:
        stop_cluster(temp_dir)
        raise
    return cluster


def wait_for_nodes(cluster: LoopbackRay, count: int, timeout: float = START_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            body = httpx.get(f"{cluster.address}/api/v0/nodes", timeout=10).json()
            nodes = body["data"]["result"]["result"]
            if sum(node["state"] == "ALIVE" for node in nodes) >= count:
                return
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            pass  # the dashboard is still starting
        time.sleep(0.5)
    raise TimeoutError(f"ray cluster at {cluster.address}: {count} nodes not alive in {timeout} s")


def own_processes(temp_dir: Path) -> list[psutil.Process]:
    """Every process of this cluster: those that inherited the variable naming its temp
    dir, and their descendants (a process that retitles itself, as Ray's agents and workers
    do, may have written over its environment)."""
    found: dict[int, psutil.Process] = {}
    for process in psutil.process_iter():
        try:
            if process.pid != os.getpid() and process.environ().get(MARK) == str(temp_dir):
                found[process.pid] = process
                found |= {child.pid: child for child in process.children(recursive=True)}
        except (psutil.Error, OSError):
            continue  # gone, or not ours to read
    return list(found.values())


def stop_cluster(temp_dir: Path) -> None:
    processes = own_processes(temp_dir)
    for process in processes:
        with contextlib.suppress(psutil.Error):  # ended meanwhile
            process.kill()
    psutil.wait_procs(processes, timeout=15)
    shutil.rmtree(temp_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def loopback_ray() -> Iterator[LoopbackRay]:
    """One cluster for the session's ray tests, stopped at its end (even after a failure)."""
    try:
        import ray  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail('CI is set but ray is not installed (pip install -e ".[dev]")')
        pytest.skip('ray is not installed: pip install -e ".[dev]"')
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        stop_cluster(cluster.temp_dir)


NODE_MARK = "BOXOPS_TEST_RAY_NODE"


def add_node(cluster: LoopbackRay, name: str, resources: str) -> None:
    """One more node of `cluster` (`resources` as JSON), its processes marked with `name`."""
    env = ray_env(cluster.temp_dir) | {NODE_MARK: name}
    args = [
        f"--address={cluster.gcs}",
        "--node-ip-address=127.0.0.1",
        f"--temp-dir={cluster.temp_dir}",
        f"--dashboard-agent-listen-port={free_port()}",
        "--num-cpus=1",
        "--num-gpus=0",
        f"--resources={resources}",
        "--disable-usage-stats",
    ]
    ray_start(args, env, cluster.temp_dir / f"{name}.log")


def kill_node(name: str) -> int:
    """Kill every process of the node added as `name` (a machine lost); how many."""
    found: dict[int, psutil.Process] = {}
    for process in psutil.process_iter():
        try:
            if process.environ().get(NODE_MARK) == name:
                found[process.pid] = process
                found |= {child.pid: child for child in process.children(recursive=True)}
        except (psutil.Error, OSError):
            continue
    for process in found.values():
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(list(found.values()), timeout=15)
    return len(found)
