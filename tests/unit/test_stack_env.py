"""What the embedded stack's services get of the user's environment."""

from pathlib import Path

import pytest

from boxops.stack import Stack


def test_the_stack_passes_on_how_local_runs_run_and_no_other_boxops_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOXOPS_LOCAL_SANDBOX", "false")
    monkeypatch.setenv("BOXOPS_WORK_ROOT", str(tmp_path / "runs"))
    monkeypatch.setenv("BOXOPS_LOCAL_SANDBOX_HIDE", '["/srv/secrets"]')
    monkeypatch.setenv("BOXOPS_DOCKER_URL", "tcp://elsewhere:2375")
    stack = Stack(tmp_path / "home", 8765, report=lambda _: None)
    stack.nats_url = "nats://127.0.0.1:4222"

    env = stack._env()

    assert env["BOXOPS_LOCAL_SANDBOX"] == "false"
    assert env["BOXOPS_WORK_ROOT"] == str(tmp_path / "runs")
    assert env["BOXOPS_LOCAL_SANDBOX_HIDE"] == '["/srv/secrets"]'
    assert "BOXOPS_DOCKER_URL" not in env
