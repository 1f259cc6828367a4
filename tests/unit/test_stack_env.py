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


def test_the_trigger_service_alone_gets_the_notify_urls_and_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOXOPS_NOTIFY_CHAT_URL", "https://chat.example.com/hooks/x")
    stack = Stack(tmp_path / "home", 8765, report=lambda _: None)
    stack.nats_url = "nats://127.0.0.1:4222"
    env = stack._env()

    trigger = stack._identity(env, "trigger")
    assert trigger["BOXOPS_NOTIFY_CHAT_URL"] == "https://chat.example.com/hooks/x"
    for other in ("gateway", "executor", "scheduler"):
        assert "BOXOPS_NOTIFY_CHAT_URL" not in stack._identity(env, other)
