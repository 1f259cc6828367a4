"""The gateway's server-sent event streams against a served gateway, scheduler and executor:
a run's log lines as they are printed then its end, and a live tail of the bus."""

import asyncio
import json
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from httpx_sse import ServerSentEvent, aconnect_sse

from services.executor.settings import ExecutorSettings
from tests.integration.conftest import submit, wait_run
from tests.integration.sdk_stack import SdkStack, sdk_stack_fixture  # noqa: F401

WAIT_S = 30


async def events(
    stack: SdkStack, path: str, headers: dict[str, str] | None = None
) -> AsyncGenerator[ServerSentEvent, None]:
    async with aconnect_sse(
        stack.http, "GET", path, headers=dict(headers or {}), timeout=WAIT_S
    ) as source:
        assert source.response.status_code == 200, await source.response.aread()
        async for event in source.aiter_sse():
            yield event


async def gated_run(stack: SdkStack, before: str, after: str) -> tuple[str, Path]:
    """A run that prints `before`, waits for its gate file, then runs `after`; its id and
    the gate (in its work dir: a sandboxed local run sees no other file a test could make)."""
    script = f"{before}; until [ -e gate ]; do sleep 0.05; done; {after}"
    run_id = await submit(stack.http, command=["sh", "-c", script])
    await wait_run(stack.http, run_id, states=("running",), timeout=WAIT_S)
    settings: ExecutorSettings = stack.executor.settings  # type: ignore[assignment]
    return run_id, settings.work_dirs() / run_id / "attempt-1" / "work" / "gate"


def line(event: ServerSentEvent) -> tuple[str, str, str]:
    data = json.loads(event.data)
    return event.event, data["stream"], data["line"]


async def test_a_log_stream_sends_the_lines_as_printed_then_the_runs_end(
    sdk_stack: SdkStack,
) -> None:
    run_id, gate = await gated_run(sdk_stack, "echo started; echo warned >&2", "echo after")
    stream = events(sdk_stack, f"/v1/runs/{run_id}/logs/stream")

    # The run waits for the gate: what the stream sent so far was sent while it ran.
    first = [line(await asyncio.wait_for(anext(stream), WAIT_S)) for _ in range(2)]
    assert first == [("line", "stdout", "started"), ("line", "stderr", "warned")]
    gate.touch()
    rest = [event async for event in stream]

    assert [line(e) for e in rest[:-1]] == [("line", "stdout", "after")]
    assert rest[-1].event == "end"
    assert json.loads(rest[-1].data) == {
        "id": run_id,
        "state": "completed",
        "reason": "exit code 0",
    }


async def test_the_log_stream_of_an_ended_run_replays_every_line_and_its_end(
    sdk_stack: SdkStack,
) -> None:
    run_id = await submit(sdk_stack.http, command=["sh", "-c", "echo one; echo two; exit 3"])
    await wait_run(sdk_stack.http, run_id, timeout=WAIT_S)

    got = [event async for event in events(sdk_stack, f"/v1/runs/{run_id}/logs/stream")]

    assert [line(e)[2] for e in got[:-1]] == ["one", "two"]
    assert (got[-1].event, json.loads(got[-1].data)["state"]) == ("end", "failed")
    assert json.loads(got[-1].data)["reason"] == "exit code 3"


async def test_a_reconnected_log_stream_goes_on_after_the_last_event_id(
    sdk_stack: SdkStack,
) -> None:
    run_id, gate = await gated_run(sdk_stack, "echo before", "echo after")
    path = f"/v1/runs/{run_id}/logs/stream"
    stream = events(sdk_stack, path)
    seen = await asyncio.wait_for(anext(stream), WAIT_S)
    await stream.aclose()  # the client goes away, as a browser tab closed
    assert line(seen) == ("line", "stdout", "before") and seen.id
    gate.touch()

    got = [event async for event in events(sdk_stack, path, {"Last-Event-ID": seen.id})]

    assert [e.event for e in got] == ["line", "end"]
    assert line(got[0]) == ("line", "stdout", "after")


async def test_the_log_stream_of_an_unknown_run_is_404(sdk_stack: SdkStack) -> None:
    response = await sdk_stack.http.get("/v1/runs/nope/logs/stream")
    assert response.status_code == 404, response.text
    assert response.json()["detail"] == "no run with id 'nope'"


async def test_the_event_stream_says_when_it_is_subscribed_then_tails_what_was_asked(
    sdk_stack: SdkStack,
) -> None:
    stream = events(sdk_stack, "/v1/events/stream?subject=run.completed")
    ready = await asyncio.wait_for(anext(stream), WAIT_S)
    assert ready.event == "ready"  # subscribed: what is published from now on comes

    run_id = await submit(sdk_stack.http, command=["true"])
    event = await asyncio.wait_for(anext(stream), WAIT_S)

    assert event.event == "run.completed"
    body: dict[str, Any] = json.loads(event.data)
    assert body["subject"] == "run.completed" and body["data"]["run_id"] == run_id
    assert event.id.startswith("BOXOPS_EVENTS:")
    await stream.aclose()


async def test_the_event_stream_refuses_what_is_not_an_event_subject(
    sdk_stack: SdkStack,
) -> None:
    for subject, why in [
        ("dlq.>", "is not an event subject"),
        ("log.abc", "is not an event subject"),
        ("*.created", "is not an event subject"),
        ("run..x", "is not a subject"),
        ("run.>.x", "is not a subject"),
    ]:
        response = await sdk_stack.http.get("/v1/events/stream", params={"subject": subject})
        assert response.status_code == 422, (subject, response.text)
        assert why in response.json()["detail"], subject


async def test_a_runs_metrics_stream_tells_each_change_then_its_end(
    sdk_stack: SdkStack,
) -> None:
    run_id, gate = await gated_run(sdk_stack, "echo started", "true")
    stream = events(sdk_stack, f"/v1/runs/{run_id}/metrics/live")
    assert (await asyncio.wait_for(anext(stream), WAIT_S)).event == "ready"
    first = await asyncio.wait_for(anext(stream), WAIT_S)
    assert json.loads(first.data) == {"state": "running", "metrics": {}}

    points = [{"id": f"p{i}", "name": "loss", "value": 1 / i, "step": i} for i in range(1, 4)]
    logged = await sdk_stack.http.post(f"/v1/sdk/runs/{run_id}/metrics", json={"points": points})
    assert logged.status_code < 300, logged.text
    changed = json.loads((await asyncio.wait_for(anext(stream), WAIT_S)).data)
    assert (changed["state"], changed["metrics"]["loss"]["count"]) == ("running", 3)
    gate.touch()
    rest = [event async for event in stream]

    assert json.loads(rest[-2].data)["state"] == "completed"
    assert json.loads(rest[-2].data)["metrics"]["loss"]["last"] == 1 / 3
    assert rest[-1].event == "end"


async def test_the_metrics_stream_of_an_unknown_run_is_a_404(sdk_stack: SdkStack) -> None:
    answer = await sdk_stack.http.get("/v1/runs/nope/metrics/live")
    assert answer.status_code == 404
