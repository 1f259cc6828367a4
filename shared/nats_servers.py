"""The NATS servers a process connects to: one URL, or a cluster's seeds separated by
commas, and how to go from one to another when the one in use is lost."""

import random  # spreading load, not secrets
from typing import Any

from nats.aio.client import Server

SCHEMES = ("nats://", "tls://", "ws://", "wss://")
# A lost node's clients move to another at once; a seed that keeps refusing is tried
# again after a growing wait, up to this, jittered so that the clients of a node that
# went down do not come back to the cluster in one wave.
MAX_WAIT_S = 2.0
FIRST_WAIT_S = 0.05


def seeds(url: str) -> list[str]:
    """The servers of `url` (comma-separated), each checked for its scheme (ValueError)."""
    servers = [part.strip() for part in url.split(",") if part.strip()]
    if not servers:
        raise ValueError("BOXOPS_NATS_URL names no server")
    for server in servers:
        if not server.startswith(SCHEMES):
            raise ValueError(
                f"BOXOPS_NATS_URL: each server must start with nats:// or tls://, got {server!r}"
            )
    if len({s.startswith(("ws://", "wss://")) for s in servers}) > 1:
        raise ValueError("BOXOPS_NATS_URL mixes websocket and plain servers")
    return servers


def next_server(pool: list[Server], _info: dict[str, Any]) -> tuple[Server | None, float]:
    """nats-py's reconnect handler: the seed that failed least lately (one at random among
    equals, so a node's clients spread over the others), after a jittered wait that grows
    with its failures: none for a seed not tried since it last worked."""
    fewest = min(server.reconnects for server in pool)
    server = random.choice([s for s in pool if s.reconnects == fewest])  # noqa: S311
    if fewest == 0:
        return server, 0.0
    wait = min(MAX_WAIT_S, FIRST_WAIT_S * 2 ** min(fewest, 8))
    return server, wait * random.uniform(0.5, 1.0)  # noqa: S311


def connect_options(url: str) -> dict[str, Any]:
    """nats-py's (and FastStream's) connection keywords for `url`: every seed, reconnecting
    for ever (a cluster node's loss, or all of them restarting, is waited out)."""
    return {
        "servers": seeds(url),
        "max_reconnect_attempts": -1,
        "reconnect_to_server_handler": next_server,
    }
