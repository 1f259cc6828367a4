"""Each `curl` line of the README, run as written against `boxops up`."""

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from boxops.client import TERMINAL
from boxops.home import api_token
from tests.conftest import free_port
from tests.e2e.test_embedded_stack import boxops, wait_until

README = Path(__file__).parents[2] / "README.md"


def readme_curls() -> list[str]:
    """The README's curl commands, continuation lines joined, trailing comments dropped."""
    text = README.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("curl ")]
    return [re.sub(r"\s+#.*$", "", line) for line in lines]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[dict[str, str], str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    env["BOXOPS_HOME"] = str(tmp_path / "home")
    port = str(free_port())
    started = boxops(env, "up", "--detach", "--port", port)
    try:
        assert started.returncode == 0, started.stderr + started.stdout
        env["TOKEN"] = api_token(tmp_path / "home")
        yield env, port
    finally:
        boxops(env, "down")


def curl(line: str, env: dict[str, str], port: str) -> dict[str, object]:
    command = line.replace("localhost:8765", f"127.0.0.1:{port}")
    done = subprocess.run(
        ["sh", "-c", command + " --silent --show-error --fail-with-body"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, f"{line}\n{done.stdout}{done.stderr}"
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_the_readme_curl_lines_submit_a_run_and_read_its_state_and_logs(
    stack: tuple[dict[str, str], str],
) -> None:
    env, port = stack
    submit, show, logs = readme_curls()
    assert " -d " in submit and "$ID" in show and "$ID/logs" in logs

    env["ID"] = str(curl(submit, env, port)["id"])

    run = wait_until(lambda: (r := curl(show, env, port))["state"] in TERMINAL and r)
    assert (run["state"], run["command"]) == ("completed", ["python", "-c", "print(1)"])
    lines = wait_until(lambda: curl(logs, env, port)["lines"])
    assert [line["line"] for line in lines] == ["1"]  # type: ignore[index, union-attr]
