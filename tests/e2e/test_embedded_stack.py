"""`boxops up --detach` in a fresh home, a run through the CLI, `boxops down`."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from tests.conftest import free_port

T = TypeVar("T")


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
    service_log = boxops(home_env, "logs", "scheduler")
    assert " INFO    scheduler shared.service: scheduler started" in service_log.stdout

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


def test_up_in_the_foreground_restarts_a_dead_service_and_stops_on_sigterm(
    home_env: dict[str, str],
) -> None:
    up = subprocess.Popen(
        [sys.executable, "-m", "boxops.cli.main", "up", "--port", str(free_port())],
        env=home_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        before = wait_until(lambda: running_pids(home_env))
        os.kill(before["executor"], signal.SIGKILL)
        after = wait_until(
            lambda: (
                (pids := running_pids(home_env)) and pids["executor"] != before["executor"] and pids
            )
        )
        run = boxops(home_env, "runs", "submit", "--wait", "--", "true")
        assert run.returncode == 0, run.stderr  # the restarted executor takes work
    finally:
        up.send_signal(signal.SIGTERM)
        out, err = up.communicate(timeout=60)
    assert up.returncode == 0, err
    assert "executor exited with code -9; restarting" in err
    assert all(name in out for name in after)  # the table of services
    assert boxops(home_env, "status").returncode == 1
    for pid in after.values():
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def running_pids(env: dict[str, str]) -> dict[str, int] | None:
    """Each service's pid once all six answer healthy, else None."""
    status = boxops(env, "status", "--json")
    if status.returncode != 0:
        return None
    return {name: s["pid"] for name, s in json.loads(status.stdout)["services"].items()}


def wait_until(check: Callable[[], T | None], timeout: float = 60.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.2)
    raise AssertionError(f"condition not met within {timeout}s")
