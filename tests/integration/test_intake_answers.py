"""POST /v1/runs answers with the scheduler's decision: 422 with the reason for a run it
refuses (recorded under the id in the answer), 202 for one it accepts; `boxops runs submit`
exits 2 with the reason. Real registry, scheduler, gateway (served on a port for the CLI)."""

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Stack, start_stack, stop_stack, wait_run
from tests.integration.served import served

GREET = """
kind: component
name: greet
command: [sh, -c, "echo hello {{ params.who }} x{{ params.times }}"]
params:
  who: {type: str, required: true}
  times: {type: int, default: 2}
"""
NEEDS_DATA = (
    "kind: component\nname: needs-data\ncommand: ['true']\ninputs: {data: {type: dataset}}\n"
)

REFUSALS = [
    pytest.param(
        {"component": "greet", "params": {"who": "a", "colour": "red"}},
        "unknown param 'colour' for greet@1",
        id="unknown-param",
    ),
    pytest.param(
        {"component": "greet", "params": {"who": "a", "times": "many"}},
        "param 'times' must be int, got 'many'",
        id="bad-type",
    ),
    pytest.param(
        {"component": "needs-data"},
        "missing required input 'data' (dataset) for needs-data@1",
        id="missing-input",
    ),
    pytest.param(
        {"component": "greet@9", "params": {"who": "a"}},
        "unknown component 'greet@9': no component or pipeline 'greet@9'",
        id="unknown-version",
    ),
]


@pytest.fixture
async def stack(nats_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    db = (f"sqlite+aiosqlite:///{tmp_path / 'scheduler.db'}", "main")
    running = await start_stack(
        nats_url, db, tmp_path / "home", with_executor=False, services=("registry",)
    )
    for spec in (GREET, NEEDS_DATA):
        response = await running.http.post(
            "/v1/components", content=spec, headers={"content-type": "application/yaml"}
        )
        assert response.status_code == 201, response.text
    yield running
    await stop_stack(running)


@pytest.fixture
async def gateway_url(stack: Stack) -> AsyncIterator[str]:
    async with served(stack.gateway) as url:
        yield url


@pytest.mark.parametrize(("body", "reason"), REFUSALS)
async def test_a_refused_run_is_answered_422_with_the_reason_and_stays_recorded(
    stack: Stack, body: dict[str, Any], reason: str
) -> None:
    response = await stack.http.post("/v1/runs", json=body)

    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["state"] == "failed"
    assert answer["reason"].startswith(reason), answer
    assert answer["detail"] == f"run {answer['id']} refused: {answer['reason']}"
    run = (await stack.http.get(answer["url"])).json()
    assert (run["id"], run["state"], run["substate"]) == (answer["id"], "failed", "rejected")
    assert run["reason"] == answer["reason"]
    assert (run["kind"], run["component"]) == ("component", body["component"])  # as asked


async def test_an_accepted_run_is_still_answered_202_with_the_state_it_reached(
    stack: Stack,
) -> None:
    response = await stack.http.post(
        "/v1/runs", json={"component": "greet", "params": {"who": "a"}}
    )

    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["state"] == "pending"
    run = await wait_run(stack.http, answer["id"], states=("pending",))
    assert run["component"] == "greet@1"
    assert [step["reason"] for step in run["history"]][:1] == ["accepted"]


async def test_without_a_decision_in_time_the_run_is_answered_202_pending(
    stack: Stack,
) -> None:
    await stack.scheduler.stop()  # nobody decides: the gateway answers when its wait is up
    stack.gateway.state.settings.intake_wait_s = 0.2

    response = await stack.http.post("/v1/runs", json={"command": ["true"]})

    assert response.status_code == 202, response.text
    assert response.json()["state"] == "pending"


async def boxops(gateway_url: str, *args: str, columns: int = 500) -> Any:
    """`boxops ARGS…` run as a user runs it, against the gateway at `gateway_url`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "boxops.cli.main", *args],
        env=env | {"BOXOPS_GATEWAY_URL": gateway_url, "COLUMNS": str(columns)},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(("body", "reason"), REFUSALS)
async def test_runs_submit_of_a_refused_run_exits_2_with_the_reason(
    stack: Stack, gateway_url: str, body: dict[str, Any], reason: str
) -> None:
    args = [body["component"]]
    args += [f"-p{name}={value}" for name, value in body.get("params", {}).items()]
    result = await boxops(gateway_url, "runs", "submit", *args)

    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert "refused: " + reason in line, line


async def test_runs_list_fits_the_terminal_cutting_reasons_at_their_end_and_wide_shows_them(
    stack: Stack, gateway_url: str
) -> None:
    body = {"component": "greet", "params": {"who": "a", "colour": "red"}}
    refused = (await stack.http.post("/v1/runs", json=body)).json()
    reason = refused["reason"]
    assert reason == "unknown param 'colour' for greet@1 (it takes: times, who)"

    for columns in (80, 100, 120):
        listed = await boxops(gateway_url, "runs", "list", columns=columns)
        assert listed.returncode == 0, listed.stderr
        header, line = listed.stdout.splitlines()  # one line a run: nothing wrapped
        assert max(len(header), len(line)) <= columns, listed.stdout
        assert line.split()[:3] == [refused["id"], "failed", "greet"]
        shown = line[header.index("reason") :].rstrip()
        assert shown.endswith("…") and reason.startswith(shown[:-1]), (columns, shown)
        assert len(shown) >= 20

    wide = await boxops(gateway_url, "runs", "list", "--wide", columns=80)
    header, line = wide.stdout.splitlines()
    assert line[header.index("reason") :].rstrip() == reason
    assert header.split() == ["id", "state", "what", "created", "exit", "reason"]
