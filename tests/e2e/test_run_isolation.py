"""The findings, through `boxops up`: a local run read the admin token through its work dir's
parents, and reached the platform's ports on loopback. Now neither that way nor by their
paths does it see home's secrets, and it reaches no port of the host, only the gateway's
socket that its SDK sends through."""

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.e2e.test_embedded_stack import boxops

SECRETS = ("token", "run-token-secret", "stack.json")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], int]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    env["BOXOPS_HOME"] = str(tmp_path_factory.mktemp("isolation") / "home")
    port = free_port()
    started = boxops(env, "up", "--detach", "--port", str(port))
    assert started.returncode == 0, started.stderr + started.stdout
    yield env, port
    boxops(env, "down")


def output(env: dict[str, str], *command: str) -> list[str]:
    """What a run of `command` printed, once it completed."""
    run = boxops(env, "runs", "submit", "--wait", "--json", "--", *command)
    assert run.returncode == 0, run.stderr + run.stdout
    return boxops(env, "runs", "logs", json.loads(run.stdout)["id"]).stdout.splitlines()


def test_a_run_of_boxops_up_cannot_read_the_token_the_run_token_secret_or_stack_json(
    stack: tuple[dict[str, str], int],
) -> None:
    env, _ = stack
    home = Path(env["BOXOPS_HOME"])
    tries = [f"{home}/{name}" for name in SECRETS]
    tries += [f"$BOXOPS_WORKDIR/{'../' * depth}{name}" for depth in range(1, 9) for name in SECRETS]
    script = "".join(f'cat "{path}" 2>/dev/null && echo; ' for path in tries) + "echo tried"

    printed = output(env, "sh", "-c", script)

    assert all((home / name).read_text().strip() for name in SECRETS)  # there to be read
    assert printed == ["tried"]


PROBE = """
import os, socket
from boxops.sdk.session import UnixConnection
for port in ({nats}, {gateway}):
    with socket.socket() as s:
        s.settimeout(5)
        print("reached" if s.connect_ex(("127.0.0.1", port)) == 0 else "refused")
sdk = UnixConnection(os.environ["BOXOPS_API_SOCKET"], timeout=5)
sdk.request("GET", "/healthz")
print("gateway socket", sdk.getresponse().status)
"""


def test_a_run_of_boxops_up_reaches_neither_nats_nor_the_gateways_port_only_its_socket(
    stack: tuple[dict[str, str], int],
) -> None:
    env, gateway = stack
    shown = json.loads(boxops(env, "status", "--json").stdout)
    nats = int(shown["nats_url"].rsplit(":", 1)[1])
    probe = PROBE.format(nats=nats, gateway=gateway)

    assert output(env, sys.executable, "-c", probe) == ["refused", "refused", "gateway socket 200"]
