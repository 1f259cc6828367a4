"""A run accepted is a run recorded (issue 17 #3): values a database cannot store are
refused at the gateway with 422 naming the field; a value the database still refuses makes
a refused run, never a 404 forever; retrying a refused run is a clear 409."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.scheduler.intake import UNSTORABLE_REASON
from shared.events import Cause, RunRequested
from tests.integration.conftest import Stack, start_stack, stop_stack, submit, wait_run


@pytest.fixture
async def stack(nats_url: str, db: tuple[str, str], tmp_path: Path) -> AsyncIterator[Stack]:
    running = await start_stack(
        nats_url, db, tmp_path / "home", with_executor=False, services=("registry",)
    )
    yield running
    await stop_stack(running)


UNSTORABLE = [
    pytest.param('{"command": ["true"], "priority": 3000000000}', "priority", id="priority-int32"),
    pytest.param('{"command": ["true"], "priority": -3000000000}', "priority", id="priority-low"),
    pytest.param('{"command": ["true"], "priority": 1e20}', "priority", id="priority-1e20"),
    pytest.param(
        '{"command": ["true"], "concurrency_key": "k", "max_concurrency": 3000000000}',
        "max_concurrency",
        id="max-concurrency-int32",
    ),
    pytest.param('{"command": ["true"], "selector": {"gpu": "a\\u0000"}}', "selector", id="nul"),
    pytest.param(
        '{"command": ["true"], "concurrency_key": "k\\u0000"}', "concurrency_key", id="nul-key"
    ),
    pytest.param('{"command": ["tr\\u0000ue"]}', "command", id="nul-command"),
    pytest.param('{"command": ["true"], "env": {"A\\u0000": "1"}}', "env", id="nul-env-name"),
    pytest.param('{"command": ["true"], "params": {"a": ["\\ud800"]}}', "params", id="surrogate"),
    pytest.param(
        '{"command": ["true"], "resources": {"cpu": 1e999}}', "resources.cpu", id="inf-cpu"
    ),
    pytest.param('{"command": ["true"], "timeout_s": 1e999}', "timeout_s", id="inf-timeout"),
    pytest.param('{"command": ["true"], "params": {"a": -1e999}}', "params", id="inf-param"),
]


@pytest.mark.parametrize(("body", "field"), UNSTORABLE)
async def test_a_value_no_database_can_store_is_refused_at_the_gateway_naming_the_field(
    stack: Stack, body: str, field: str
) -> None:
    response = await stack.http.post("/v1/runs", content=body)

    assert response.status_code == 422, response.text
    [problem] = response.json()["detail"]
    assert ".".join(map(str, problem["loc"][1:])) == field, problem
    # Nothing was asked of the scheduler: a run submitted after it is the only one recorded.
    after = await submit(stack.http, command=["true"])
    await wait_run(stack.http, after, states=("pending",))
    assert [run["id"] for run in (await stack.http.get("/v1/runs")).json()] == [after]


async def test_the_bus_contract_has_the_bounds_too() -> None:
    with pytest.raises(ValueError, match="priority"):
        RunRequested(command=["true"], priority=3_000_000_000)
    with pytest.raises(ValueError, match="NUL"):
        RunRequested(command=["true"], selector={"gpu": "\x00"})


async def test_a_request_the_database_still_refuses_is_recorded_as_a_refused_run(
    stack: Stack, db: tuple[str, str]
) -> None:
    if db[0].startswith("sqlite"):
        pytest.skip("SQLite stores every value the contract lets through")
    # A NUL in a trigger's name passes the contract (the cause is the platform's) but no
    # PostgreSQL text column takes it. Published beside a sound request, as one burst.
    bus = stack.gateway_service.bus
    cause = Cause(kind="event", trigger="hook\x00")
    await bus.publish(RunRequested(command=["true"], run_id="bad", cause=cause))
    await bus.publish(RunRequested(command=["true"], run_id="good"))

    refused = await wait_run(stack.http, "bad")
    good = await wait_run(stack.http, "good", states=("pending",))

    assert (refused["state"], refused["substate"]) == ("failed", "rejected")
    assert refused["reason"] == UNSTORABLE_REASON
    assert refused["cause"]["kind"] == "event"
    assert good["history"][0]["reason"] == "accepted"


async def test_retrying_a_run_refused_at_intake_is_a_clear_409(stack: Stack) -> None:
    response = await stack.http.post("/v1/runs", json={"component": "nope"})
    assert response.status_code == 422, response.text
    run_id, reason = response.json()["id"], response.json()["reason"]

    retried = await stack.http.post(f"/v1/runs/{run_id}/retry")

    assert retried.status_code == 409, retried.text
    assert reason.startswith("unknown component 'nope'")
    assert (
        retried.json()["detail"] == f"run {run_id} was refused ({reason}): submit a corrected run"
    )
