"""Retries, timeouts, aborts, waiting reasons and metrics, with real services (SQLite, PG)."""

import asyncio
from datetime import datetime

from shared.bus import Bus
from shared.events import MetricLogged
from tests.conftest import eventually
from tests.integration.conftest import Stack, submit, wait_run


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def reasons(run: dict) -> list[str]:  # type: ignore[type-arg]
    return [step["reason"] for step in run["history"]]


async def test_a_failing_run_is_retried_with_backoff_then_fails(stack: Stack) -> None:
    run_id = await submit(
        stack.http, command=["sh", "-c", "exit 3"], retries=2, retry_backoff_s=0.5
    )
    run = await wait_run(stack.http, run_id, timeout=30)

    assert run["state"] == "failed"
    assert run["attempt"] == 3
    assert run["exit_code"] == 3
    retried = [r for r in reasons(run) if r.startswith("retry")]
    assert retried == ["retry 1/2 in 0.5 s after exit code 3", "retry 2/2 in 1 s after exit code 3"]
    first_end = next(t["at"] for t in run["history"] if t["reason"].startswith("retry 1"))
    second_start = [t["at"] for t in run["history"] if t["substate"] == "dispatched"][1]
    assert _seconds(second_start) - _seconds(first_end) >= 0.5
    assert reasons(run)[-1] == "exit code 3"


async def test_a_run_past_its_timeout_is_stopped_and_fails(stack: Stack) -> None:
    run_id = await submit(stack.http, command=["sleep", "30"], timeout_s=1)
    run = await wait_run(stack.http, run_id, timeout=15)

    assert run["state"] == "failed"
    assert run["history"][-1]["reason"] == "timeout after 1 s"
    running = next(t for t in run["history"] if t["state"] == "running")
    assert running["at"] < run["history"][-1]["at"]


async def test_aborting_a_running_run_stops_its_process_tree_within_5_s(stack: Stack) -> None:
    marker = stack.executor.settings.home / "child-alive"
    script = f"sh -c 'sleep 30; touch {marker}' & sleep 30"
    run_id = await submit(stack.http, command=["sh", "-c", script])
    await wait_run(stack.http, run_id, ("running",))

    loop = asyncio.get_running_loop()
    asked = loop.time()
    response = await stack.http.post(f"/v1/runs/{run_id}/abort")
    assert response.status_code == 202
    run = await wait_run(stack.http, run_id, timeout=5)
    assert loop.time() - asked < 5
    assert run["state"] == "aborted"
    assert run["history"][-1]["reason"] == "aborted by user"
    assert (await stack.http.post(f"/v1/runs/{run_id}/abort")).status_code == 409


async def test_a_run_no_executor_can_take_waits_with_the_reason_and_can_be_aborted(
    stack: Stack,
) -> None:
    run_id = await submit(stack.http, command=["true"], resources={"gpu": 1})

    async def waiting_reason() -> str | None:
        run = (await stack.http.get(f"/v1/runs/{run_id}")).json()
        return run["reason"] if run.get("reason", "").startswith("needs") else None

    assert await eventually(waiting_reason) == "needs gpu=1; no executor has a gpu"
    await stack.http.post(f"/v1/runs/{run_id}/abort")
    run = await wait_run(stack.http, run_id, timeout=5)
    assert run["state"] == "aborted"


async def test_metrics_logged_for_a_run_are_summarised(stack: Stack) -> None:
    run_id = await submit(stack.http, command=["true"])
    await wait_run(stack.http, run_id)
    bus: Bus = stack.gateway_service.bus
    for step, value in enumerate([0.5, 0.9, 0.7]):
        await bus.publish(MetricLogged(name="acc", value=value, step=step, run_id=run_id))
    duplicate = MetricLogged(name="acc", value=0.7, step=2, run_id=run_id)
    await bus.publish(duplicate, id="same-point")
    await bus.publish(duplicate, id="same-point")  # redelivered or re-sent: counted once

    async def summary() -> dict | None:  # type: ignore[type-arg]
        found = (await stack.http.get(f"/v1/runs/{run_id}/metrics")).json()
        acc = found["summary"].get("acc")
        return found if acc and acc["count"] == 4 else None

    found = await eventually(summary)
    assert found["summary"]["acc"] == {
        "last": 0.7,
        "min": 0.5,
        "max": 0.9,
        "count": 4,
        "last_step": 2,
    }
    assert [p["value"] for p in found["series"]["acc"]] == [0.5, 0.9, 0.7, 0.7]
    shown = (await stack.http.get(f"/v1/runs/{run_id}")).json()
    assert shown["metrics"]["acc"]["last"] == 0.7


async def test_retry_starts_a_new_run_of_the_same_command(stack: Stack) -> None:
    first = await submit(stack.http, command=["sh", "-c", "echo again"])
    await wait_run(stack.http, first)
    response = await stack.http.post(f"/v1/runs/{first}/retry")
    assert response.status_code == 202
    second = await wait_run(stack.http, response.json()["id"])
    assert second["command"] == ["sh", "-c", "echo again"]
    assert second["cause"]["retry_of"] == first
    assert second["state"] == "completed"


async def test_runs_are_filtered_by_state_and_time(stack: Stack) -> None:
    ok = await submit(stack.http, command=["true"])
    bad = await submit(stack.http, command=["false"])
    done = [await wait_run(stack.http, ok), await wait_run(stack.http, bad)]
    failed = (await stack.http.get("/v1/runs", params={"state": "failed"})).json()
    assert [r["id"] for r in failed] == [bad]
    later = (await stack.http.get("/v1/runs", params={"since": done[1]["created_at"]})).json()
    assert [r["id"] for r in later] == [bad]
