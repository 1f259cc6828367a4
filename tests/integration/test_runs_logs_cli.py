"""`boxops runs logs [-f]` against a served gateway, scheduler and executor: an unknown
run is an error, and following a run ends with its final state, reason and exit code."""

import asyncio
import os
import subprocess
import sys

from services.executor.settings import ExecutorSettings
from shared.runs import RunState
from tests.integration.conftest import submit, wait_run
from tests.integration.sdk_stack import TOKEN, SdkStack, sdk_stack_fixture  # noqa: F401

CLI_TIMEOUT_S = 60  # a follow that hangs fails the test instead of stalling the suite


def cli_env(stack: SdkStack) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    return env | {"BOXOPS_GATEWAY_URL": stack.url, "BOXOPS_API_TOKEN": TOKEN}


async def boxops(stack: SdkStack, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "boxops.cli.main", *args],
        env=cli_env(stack),
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
    )


async def test_the_logs_of_an_unknown_run_are_an_error(sdk_stack: SdkStack) -> None:
    for args in (["nope"], ["nope", "-f"]):
        result = await boxops(sdk_stack, "runs", "logs", *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert result.stderr.strip() == "no run with id 'nope'"
        assert result.stdout == ""


async def test_the_gateway_answers_404_for_the_logs_of_an_unknown_run(sdk_stack: SdkStack) -> None:
    for query in ("", "?format=text"):
        response = await sdk_stack.http.get(f"/v1/runs/nope/logs{query}")
        assert response.status_code == 404, response.text
        assert response.json()["detail"] == "no run with id 'nope'"


async def test_following_a_run_that_fails_ends_with_its_state_and_reason(
    sdk_stack: SdkStack,
) -> None:
    # The gate is in the run's work dir: a local run sees no other file the test could make.
    script = "echo started; until [ -e gate ]; do sleep 0.05; done; echo after; exit 7"
    run_id = await submit(sdk_stack.http, command=["sh", "-c", script])
    await wait_run(sdk_stack.http, run_id, states=("running",), timeout=30)
    settings: ExecutorSettings = sdk_stack.executor.settings  # type: ignore[assignment]
    gate = settings.work_dirs() / run_id / "attempt-1" / "work" / "gate"
    following = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "boxops.cli.main", "runs", "logs", run_id, "-f"],
        env=cli_env(sdk_stack),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert following.stdout and following.stderr
    # Only once the follower has shown the first line does the run go on: it follows.
    first = await asyncio.wait_for(following.stdout.readline(), CLI_TIMEOUT_S)
    assert first == b"started\n"
    gate.touch()
    rest, said = await asyncio.wait_for(following.communicate(), CLI_TIMEOUT_S)

    run = await wait_run(sdk_stack.http, run_id)
    assert (run["state"], run["reason"]) == ("failed", "exit code 7")
    assert following.returncode == 1
    assert rest.decode().splitlines() == ["after"]
    assert said.decode().splitlines()[-1] == f"run {run_id} failed: exit code 7"


async def test_following_a_run_that_completes_exits_0(sdk_stack: SdkStack) -> None:
    run_id = await submit(sdk_stack.http, command=["sh", "-c", "echo done"])
    await wait_run(sdk_stack.http, run_id, states=tuple(RunState), timeout=30)  # recorded
    result = await boxops(sdk_stack, "runs", "logs", run_id, "--follow")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["done"]
    assert result.stderr.splitlines()[-1] == f"run {run_id} completed: exit code 0"
