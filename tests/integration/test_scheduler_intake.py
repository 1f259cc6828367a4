"""The scheduler's intake of run.requested: bad messages dead-lettered, duplicates ignored."""

import json
from typing import Any

from shared.bus import DEAD_LETTERS, EVENTS
from tests.conftest import eventually
from tests.integration.conftest import Stack, wait_run

DLQ_SUBJECT = "dlq.run.requested"


async def publish(stack: Stack, body: bytes, headers: dict[str, str] | None = None) -> None:
    await stack.scheduler.broker.publish(
        body, "run.requested", headers=headers or {}, stream=EVENTS.name
    )


def request(run_id: str, *command: str) -> bytes:
    return json.dumps({"run_id": run_id, "command": list(command or ("true",))}).encode()


async def dead_letters(stack: Stack, count: int) -> list[Any]:
    js = stack.scheduler.bus.nats.jetstream

    async def check() -> list[Any] | None:
        state = (await js.stream_info(DEAD_LETTERS.name)).state
        if state.messages < count:
            return None
        return [
            await js.get_msg(DEAD_LETTERS.name, seq=seq)
            for seq in range(state.first_seq, state.last_seq + 1)
        ]

    return await eventually(check)  # type: ignore[return-value]


async def runs_with_id(stack: Stack, run_id: str) -> list[dict[str, Any]]:
    listed = (await stack.http.get("/v1/runs", params={"limit": 1000})).json()
    return [run for run in listed if run["id"] == run_id]


def accepted(run: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in run["history"] if t["reason"] == "accepted"]


async def test_a_message_that_is_not_json_is_dead_lettered_and_the_next_run_completes(
    stack: Stack,
) -> None:
    await publish(stack, b"this is { not json")
    await publish(stack, request("after-garbage"))

    run = await wait_run(stack.http, "after-garbage")

    assert run["state"] == "completed"
    [letter] = await dead_letters(stack, 1)
    assert letter.subject == DLQ_SUBJECT
    assert letter.data == b"this is { not json"
    assert letter.headers["boxops-dlq-reason"].startswith("body is not JSON")
    assert letter.headers["boxops-dlq-consumer"] == "boxops/scheduler"


async def test_requests_failing_validation_are_dead_lettered_with_the_field_at_fault(
    stack: Stack,
) -> None:
    await publish(stack, b'{"command": []}')
    await publish(stack, b"{}")
    await publish(stack, b"")
    await publish(stack, request("after-invalid"))

    run = await wait_run(stack.http, "after-invalid")

    assert run["state"] == "completed"
    letters = await dead_letters(stack, 3)
    assert [letter.subject for letter in letters] == [DLQ_SUBJECT] * 3
    reasons = [letter.headers["boxops-dlq-reason"] for letter in letters]
    assert reasons[0].startswith("run.requested: command: ")
    assert reasons[1].startswith("run.requested: ")
    assert "give exactly one of command, component or pipeline" in reasons[1]
    assert reasons[2] == "empty body: expected a JSON object"
    assert len((await stack.http.get("/v1/runs")).json()) == 1


async def test_the_same_request_published_twice_with_one_event_id_makes_one_run(
    stack: Stack,
) -> None:
    headers = {"Nats-Msg-Id": "ev-twice"}
    await publish(stack, request("twice"), headers)
    await publish(stack, request("twice"), headers)

    run = await wait_run(stack.http, "twice")

    assert run["state"] == "completed"
    assert len(accepted(run)) == 1
    assert len(await runs_with_id(stack, "twice")) == 1
    js = stack.scheduler.bus.nats.jetstream
    stored = await js.get_last_msg(EVENTS.name, "run.requested")
    assert stored.seq == 1  # JetStream kept one copy: the second publish was a duplicate


async def test_a_redelivered_cloudevent_the_server_did_not_dedupe_makes_one_run(
    stack: Stack,
) -> None:
    # Binary mode without Nats-Msg-Id: JetStream stores both, the scheduler's inbox must
    # recognise the event id (and the run id, which defaults to it).
    headers = {"ce-specversion": "1.0", "ce-id": "ev-ce", "ce-source": "tests/intake"}
    body = json.dumps({"command": ["true"]}).encode()
    await publish(stack, body, headers)
    await publish(stack, body, headers)
    await publish(stack, request("marker"))

    run = await wait_run(stack.http, "ev-ce")
    await wait_run(stack.http, "marker")

    assert run["state"] == "completed"
    assert len(accepted(run)) == 1
    assert len(await runs_with_id(stack, "ev-ce")) == 1
    js = stack.scheduler.bus.nats.jetstream
    assert (await js.stream_info(EVENTS.name)).state.messages >= 3


async def test_one_run_id_requested_under_two_event_ids_makes_one_run(stack: Stack) -> None:
    await publish(stack, request("same-run", "true"), {"Nats-Msg-Id": "ev-a"})
    await publish(stack, request("same-run", "false"), {"Nats-Msg-Id": "ev-b"})
    # A third request after both lets the test know the second one was handled.
    await publish(stack, request("marker"), {"Nats-Msg-Id": "ev-c"})

    run = await wait_run(stack.http, "same-run")
    await wait_run(stack.http, "marker")

    assert run["state"] == "completed"  # the first request won: `true`, not `false`
    assert run["command"] == ["true"]
    assert len(accepted(run)) == 1
    again = (await stack.http.get("/v1/runs/same-run")).json()
    assert len(accepted(again)) == 1
    assert len(await runs_with_id(stack, "same-run")) == 1
    assert len((await stack.http.get("/v1/runs")).json()) == 2
