"""`boxops up --detach` in a fresh home, a run through the CLI, `boxops down`."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port


def boxops(
    env: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "boxops.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def home_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    env["BOXOPS_HOME"] = str(tmp_path / "home")
    yield env
    boxops(env, "down")


def test_up_run_logs_and_down_through_the_cli(home_env: dict[str, str]) -> None:
    port = str(free_port())
    started = boxops(home_env, "up", "--detach", "--port", port)
    assert started.returncode == 0, started.stderr + started.stdout
    assert f"http://127.0.0.1:{port}" in started.stdout

    status = boxops(home_env, "status", "--json")
    assert status.returncode == 0, status.stderr
    services = json.loads(status.stdout)["services"]
    assert sorted(services) == sorted(
        ["registry", "artifact", "scheduler", "trigger", "executor", "gateway"]
    )
    assert {s["status"] for s in services.values()} == {"ok"}

    again = boxops(home_env, "up", "--detach", "--port", str(free_port()))
    assert again.returncode != 0
    assert "already runs" in again.stderr

    run = boxops(
        home_env, "runs", "submit", "--wait", "--json", "--", "python", "-c", "print('e2e says hi')"
    )
    assert run.returncode == 0, run.stderr + run.stdout
    finished = json.loads(run.stdout)
    assert finished["state"] == "completed"
    assert [step["state"] for step in finished["history"]][-2:] == ["running", "completed"]

    logs = boxops(home_env, "runs", "logs", finished["id"])
    assert logs.stdout.splitlines() == ["e2e says hi"]

    failing = boxops(home_env, "runs", "submit", "--wait", "--", "sh", "-c", "exit 7")
    assert failing.returncode == 1
    listed = json.loads(boxops(home_env, "runs", "list", "--json").stdout)
    assert [r["state"] for r in listed] == ["failed", "completed"]

    stopped = boxops(home_env, "down")
    assert stopped.returncode == 0, stopped.stderr
    assert boxops(home_env, "status").returncode == 1
    assert not (Path(home_env["BOXOPS_HOME"]) / "stack.json").exists()


def test_the_cli_says_when_no_stack_runs(home_env: dict[str, str]) -> None:
    result = boxops(home_env, "runs", "list")
    assert result.returncode == 2
    assert "boxops is not running" in result.stderr
