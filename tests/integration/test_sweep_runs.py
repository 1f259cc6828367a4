"""Sweep runs in the scheduler, its tuner played by the test over the bus: a sweep run runs
on no executor, its trials are its child runs, its end is the tuner's `sweep.ended`, and
aborting it aborts its running trials. Real registry, scheduler, executor and gateway."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from nats.js.errors import NotFoundError

from shared.bus import EVENTS
from shared.events import BestTrial, RunRequested, SweepEnded, SweepStarted
from tests.conftest import eventually
from tests.integration.conftest import Stack, start_stack, stop_stack, submit, wait_run
from tests.integration.test_component_runs import register

NAP = """
kind: component
name: nap
command: [sh, -c, "echo ::metric name=score value={{ params.x }}; sleep {{ params.nap }}"]
params:
  x: {type: float, default: 0.5}
  nap: {type: float, default: 0}
"""
SEARCH = """
kind: sweep
name: search
target: {component: nap, params: {nap: 0}}
objective: {metric: score, direction: maximize}
space:
  x: {type: float, low: 0, high: 1}
trials: 4
"""


@pytest.fixture
async def stack(nats_url: str, db: tuple[str, str], tmp_path: Path) -> AsyncIterator[Stack]:
    running = await start_stack(nats_url, db, tmp_path / "home", services=("registry",))
    await register(running, NAP)
    await register(running, SEARCH, "sweeps")
    yield running
    await stop_stack(running)


async def cue(stack: Stack, run_id: str) -> SweepStarted:
    """The `sweep.started` of the run (the tuner's cue), once it is stored."""
    js = stack.gateway_service.bus.nats.jetstream

    async def stored() -> SweepStarted | None:
        seq = 1
        while True:
            try:
                found = await js.get_msg(EVENTS.name, seq=seq, next=True, subject="sweep.started")
            except NotFoundError:
                return None
            event = SweepStarted.model_validate_json(found.data or b"{}")
            if event.run_id == run_id:
                return event
            seq = (found.seq or seq) + 1

    return await eventually(stored)  # type: ignore[return-value]


async def trial(stack: Stack, sweep_id: str, number: int, **params: Any) -> str:
    run_id = f"{sweep_id}-t{number}"
    request = RunRequested(run_id=run_id, component="nap@1", params=params, parent_run_id=sweep_id)
    await stack.gateway_service.bus.publish(request, id=run_id)
    return run_id


async def test_a_sweep_run_runs_its_trials_as_children_and_ends_as_the_tuner_says(
    stack: Stack,
) -> None:
    sweep_id = await submit(stack.http, sweep="search", params={"nap": 0.01})
    run = await wait_run(stack.http, sweep_id, ("running",))
    assert run["kind"] == "sweep" and run["reason"] == "searching: 4 trials of nap@1"
    assert run["executor_id"] is None
    first = await trial(stack, sweep_id, 0, x=0.25, nap=0.01)
    done = await wait_run(stack.http, first)
    assert (done["state"], done["parent_id"]) == ("completed", sweep_id)
    assert done["metrics"]["score"]["last"] == 0.25
    assert (await wait_run(stack.http, sweep_id, ("running",)))["state"] == "running"

    best = BestTrial(run_id=first, number=0, value=0.25, params={"x": 0.25})
    ended = SweepEnded(
        run_id=sweep_id,
        state="completed",
        reason="best trial 0: score 0.25",
        objective="score",
        best=best,
        importances={"x": 1.0},
        trials={"completed": 1},
    )
    await stack.gateway_service.bus.publish(ended)
    finished = await wait_run(stack.http, sweep_id)
    assert (finished["state"], finished["reason"]) == ("completed", "best trial 0: score 0.25")
    assert finished["outputs"]["best"]["metadata"]["run_id"] == first
    assert finished["outputs"]["importances"]["metrics"] == {"x": 1.0}

    late = await trial(stack, sweep_id, 1, x=0.5)
    refused = await wait_run(stack.http, late)
    assert refused["state"] == "failed"
    assert refused["reason"] == f"its sweep run {sweep_id} has ended (completed)"


async def test_aborting_a_sweep_aborts_its_running_trials(stack: Stack) -> None:
    sweep_id = await submit(stack.http, sweep="search")
    began = await cue(stack, sweep_id)
    assert began.target == "nap@1" and began.params == {"nap": 0} and began.spec["trials"] == 4
    slow = await trial(stack, sweep_id, 0, x=0.1, nap=60)
    await wait_run(stack.http, slow, ("running",))
    response = await stack.http.post(f"/v1/runs/{sweep_id}/abort")
    assert response.status_code == 202
    assert (await wait_run(stack.http, sweep_id))["state"] == "aborted"
    assert (await wait_run(stack.http, slow, timeout=30))["state"] == "aborted"


async def test_a_sweep_that_cannot_run_is_refused(stack: Stack) -> None:
    response = await stack.http.post("/v1/runs", json={"sweep": "nope"})
    assert response.status_code == 422 and "unknown sweep 'nope'" in response.text
    response = await stack.http.post("/v1/runs", json={"sweep": "search", "params": {"y": 1}})
    assert response.status_code == 422
    assert "unknown param 'y' for nap@1 (sweep search@1)" in response.text
    by_name = await submit(stack.http, component="search")  # no component has that name
    assert (await wait_run(stack.http, by_name, ("running",)))["kind"] == "sweep"
