"""The embedded stack's bus identities, credentials files, `boxops creds create` without a
running stack, and the NATS port kept in the home."""

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from boxops import bus_auth
from boxops.home import credentials_file, nats_port_file
from boxops.stack import Stack
from shared import bus_permissions
from shared.credentials import nats_login
from shared.settings import BoxopsSettings


def boxops(home: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    env["BOXOPS_HOME"] = str(home)
    env.update({f"BOXOPS_{key.upper()}": value for key, value in settings.items()})
    command = [sys.executable, "-m", "boxops.cli.main", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_first_start_makes_every_identity_and_later_ones_keep_them(tmp_path: Path) -> None:
    first = bus_auth.write_all(tmp_path, "nats://127.0.0.1:4222")
    assert set(first) == {*bus_permissions.SERVICES, "admin", "ingress"}
    assert bus_auth.write_all(tmp_path, "nats://127.0.0.1:4222") == first
    assert stat.S_IMODE((tmp_path / "bus").stat().st_mode) == 0o700
    assert all(private(path) for path in (tmp_path / "bus").iterdir())
    login = nats_login(credentials_file(tmp_path, "scheduler"))
    assert login == {
        "user": "scheduler",
        "password": first["scheduler"].password,
        "inbox_prefix": "_INBOX.scheduler",
    }
    assert len({identity.password for identity in first.values()}) == len(first)


def test_the_server_config_holds_each_identity_with_its_permissions(tmp_path: Path) -> None:
    bus_auth.write_all(tmp_path, "nats://127.0.0.1:4222")
    added = bus_auth.add_ingress(tmp_path, ("ext.shop.>",))
    bus_auth.write_all(tmp_path, "nats://127.0.0.1:4222")
    config = json.loads(bus_auth.server_config_file(tmp_path).read_text())
    users = {user["user"]: user for user in config["authorization"]["users"]}
    assert users[added.user]["password"] == added.password
    assert users[added.user]["permissions"] == {
        "publish": {"allow": ["ext.shop.>"]},
        "subscribe": {"allow": [f"_INBOX.{added.user}.>"]},
    }
    assert users["executor"]["permissions"]["allow_responses"] is True
    assert "log.*" in users["executor"]["permissions"]["publish"]["allow"]


def test_creds_create_refuses_a_platform_subject_and_makes_no_identity(tmp_path: Path) -> None:
    bus_auth.write_all(tmp_path, "nats://127.0.0.1:4222")
    before = bus_auth.load(tmp_path)
    refused = boxops(tmp_path, "creds", "create", "--publish", "ext.a", "--publish", "run.failed")
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "--publish: not public subjects: run.failed (public: dataset.version.created, "
        "metric.logged, metrics.logged, alert.firing, alert.resolved, ext.…)"
    ]
    assert bus_auth.load(tmp_path) == before


def test_creds_create_without_a_running_stack_uses_the_kept_port(tmp_path: Path) -> None:
    nats_port_file(tmp_path).write_text("4333")
    made = boxops(tmp_path, "creds", "create", "--publish", "metric.logged")
    assert made.returncode == 0, made.stderr
    lines = dict(line.split("=", 1) for line in made.stdout.splitlines())
    assert lines["NATS_URL"] == "nats://127.0.0.1:4333"
    assert bus_auth.load(tmp_path)[lines["NATS_USER"]].publish == ("metric.logged",)
    out = tmp_path / "out" / "shop.env"
    written = boxops(tmp_path, "creds", "create", "--publish", "ext.>", "--out", str(out))
    assert written.returncode == 0, written.stderr
    assert private(out)
    assert "may publish ext.>" in written.stdout


def test_without_credentials_a_service_connects_without_a_login() -> None:
    assert BoxopsSettings(nats_credentials=None).nats_login() == {}


@pytest.mark.parametrize("text", [None, "NATS_USER=registry\n"])
def test_unusable_credentials_are_refused_naming_the_file(tmp_path: Path, text: str | None) -> None:
    path = tmp_path / "registry.env"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ValueError, match=str(path)):
        BoxopsSettings(nats_credentials=path).nats_login()


def test_the_nats_port_is_kept_and_replaced_only_when_taken(tmp_path: Path) -> None:
    said: list[str] = []
    stack = Stack(tmp_path, 0, report=said.append)
    first = stack._nats_port()
    assert nats_port_file(tmp_path).read_text() == str(first)
    assert stack._nats_port() == first
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", first))
        holder.listen()
        second = stack._nats_port()
    assert second != first
    assert nats_port_file(tmp_path).read_text() == str(second)
    assert said == [f"NATS port {first} is taken; other systems must publish to a new one"]


def test_status_refuses_unusable_credentials_with_one_line(tmp_path: Path) -> None:
    credentials = tmp_path / "mine.env"
    credentials.write_text("NATS_USER=me\n")
    shown = boxops(
        tmp_path, "status", nats_credentials=str(credentials), nats_url="nats://127.0.0.1:1"
    )
    assert shown.returncode == 2
    assert shown.stderr.strip() == f"BOXOPS_NATS_CREDENTIALS: {credentials} lacks NATS_PASSWORD"


def test_a_credentials_file_is_private_even_over_a_readable_leftover(tmp_path: Path) -> None:
    target = tmp_path / "lake.env"
    leftover = tmp_path / "lake.env.tmp"
    leftover.write_text("old")
    leftover.chmod(0o644)
    bus_auth.write_private(target, "NATS_PASSWORD=secret\n")
    assert target.read_text() == "NATS_PASSWORD=secret\n"
    assert target.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lake.env", "lake.env.tmp"]
