"""Where the gateway listens: its TCP address and, when `sdk_socket` is set, a Unix socket
too. A sandboxed run has no network (its own namespace, only its own loopback): its SDK
reaches the gateway through that socket, which the executor shows it."""

import os
import socket
from pathlib import Path

import uvicorn

from services.gateway.settings import GatewaySettings


def sockets(config: uvicorn.Config, settings: GatewaySettings) -> list[socket.socket]:
    bound = [config.bind_socket()]
    if settings.sdk_socket:
        bound.append(unix_socket(settings.sdk_socket))
    return bound


def unix_socket(path: Path) -> socket.socket:
    """A socket at `path` only this user may connect to (runs run as the executor's user)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.unlink(missing_ok=True)  # left by a gateway that died: nobody listens on it
    listening = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listening.bind(str(path))
    os.chmod(path, 0o600)
    return listening


KEEP_ALIVE_S = 75


def serve(app: object, settings: GatewaySettings) -> None:
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=settings.host,
        port=settings.port,
        log_level="warning",
        log_config=None,  # uvicorn's lines go through the service's own logging
        # An idle connection is closed by the client first (httpx's expiry is 5 s, a
        # browser's longer than that is rare): when both sides used 5 s, a request sent as
        # the server closed its connection was reset.
        timeout_keep_alive=KEEP_ALIVE_S,
    )
    try:
        uvicorn.Server(config).run(sockets=sockets(config, settings))
    finally:
        if settings.sdk_socket:
            settings.sdk_socket.unlink(missing_ok=True)
