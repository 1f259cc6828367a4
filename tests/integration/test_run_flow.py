"""One run through gateway → scheduler → executor → scheduler, on SQLite and PostgreSQL."""

import json
from typing import Any

from tests.conftest import eventually
from tests.integration.conftest import Stack


async def finished_run(stack: Stack, run_id: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        response = await stack.http.get(f"/v1/runs/{run_id}")
        if response.status_code == 200 and response.json()["state"] in (
            "completed",
            "failed",
            "aborted",
        ):
            return response.json()  # type: ignore[no-any-return]
        return None

    return await eventually(check, timeout=15)  # type: ignore[return-value]


async def test_an_inline_command_runs_to_completion_with_its_output_logged(stack: Stack) -> None:
    code = "import sys; print('hello from boxops'); print('to stderr', file=sys.stderr)"
    response = await stack.http.post("/v1/runs", json={"command": ["python", "-c", code]})
    assert response.status_code == 202, response.text
    run_id = response.json()["id"]

    run = await finished_run(stack, run_id)

    assert run["state"] == "completed"
    assert run["exit_code"] == 0
    assert run["executor_id"] == "ex1"
    states = [(t["state"], t["substate"]) for t in run["history"]]
    assert states == [
        ("pending", "queued"),
        ("pending", "dispatched"),
        ("running", None),
        ("completed", None),
    ]
    stamps = [t["at"] for t in run["history"]]
    assert stamps == sorted(stamps)
    logs = (await stack.http.get(f"/v1/runs/{run_id}/logs")).json()["lines"]
    assert {(line["stream"], line["line"]) for line in logs} == {
        ("stdout", "hello from boxops"),
        ("stderr", "to stderr"),
    }
    text = (await stack.http.get(f"/v1/runs/{run_id}/logs?format=text")).text
    assert "hello from boxops\n" in text


async def test_a_failing_command_fails_with_its_exit_code_and_stderr(stack: Stack) -> None:
    code = "import sys; print('boom: bad data', file=sys.stderr); sys.exit(3)"
    response = await stack.http.post("/v1/runs", json={"command": ["python", "-c", code]})
    run = await finished_run(stack, response.json()["id"])

    assert run["state"] == "failed"
    assert run["exit_code"] == 3
    assert run["history"][-1]["reason"] == "exit code 3"
    assert "boom: bad data" in run["error"]


async def test_a_command_that_does_not_exist_fails_with_a_reason(stack: Stack) -> None:
    response = await stack.http.post("/v1/runs", json={"command": ["no-such-binary-xyz"]})
    run = await finished_run(stack, response.json()["id"])

    assert run["state"] == "failed"
    assert run["exit_code"] is None
    assert "cannot start 'no-such-binary-xyz'" in run["history"][-1]["reason"]


async def test_runs_are_listed_newest_first_and_filtered_by_state(stack: Stack) -> None:
    ok = (await stack.http.post("/v1/runs", json={"command": ["true"]})).json()["id"]
    await finished_run(stack, ok)
    bad = (await stack.http.post("/v1/runs", json={"command": ["false"]})).json()["id"]
    await finished_run(stack, bad)

    listed = (await stack.http.get("/v1/runs")).json()
    assert [run["id"] for run in listed] == [bad, ok]
    failed = (await stack.http.get("/v1/runs", params={"state": "failed"})).json()
    assert [run["id"] for run in failed] == [bad]


async def test_an_invalid_run_request_gets_a_422_naming_the_field(stack: Stack) -> None:
    for body, field in [
        ({}, "command"),
        ({"command": []}, "command"),
        ({"command": "echo hi"}, "command"),
        ({"command": ["true"], "priority": "high"}, "priority"),
        ({"command": ["true"], "colour": "red"}, "colour"),
    ]:
        response = await stack.http.post("/v1/runs", json=body)
        assert response.status_code == 422, body
        assert field in json.dumps(response.json()["detail"]), response.json()


async def test_an_unknown_run_is_a_404(stack: Stack) -> None:
    response = await stack.http.get("/v1/runs/nope")
    assert response.status_code == 404
    assert "nope" in response.json()["detail"]
