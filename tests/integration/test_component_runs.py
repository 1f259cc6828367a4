"""Runs of registered components and pipelines: real registry, scheduler, executor, gateway."""

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.aio.msg import Msg

from shared.queries import COMPONENT_GET
from tests.conftest import eventually
from tests.integration.conftest import Stack, start_stack, stop_stack, submit, wait_run


@pytest.fixture
async def stack(nats_url: str, db: tuple[str, str], tmp_path: Path) -> AsyncIterator[Stack]:
    running = await start_stack(nats_url, db, tmp_path / "home", services=("registry",))
    yield running
    await stop_stack(running)


async def register(stack: Stack, text: str, kind: str = "components") -> dict[str, Any]:
    response = await stack.http.post(
        f"/v1/{kind}", content=text, headers={"content-type": "application/yaml"}
    )
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


GREET = """
kind: component
name: greet
type: custom
command: [sh, -c, "echo hello {{ params.who }} x{{ params.times }}; echo $BOXOPS_PARAM_WHO"]
params:
  who: {type: str, required: true}
  times: {type: int, default: 2}
inputs:
  data: {type: dataset, required: false}
env: {BOXOPS_PARAM_WHO: mallory}  # the param wins: a run cannot spoof its contract
"""


async def test_a_component_runs_with_typed_params_rendered_into_its_command(
    stack: Stack,
) -> None:
    await register(stack, GREET)
    run_id = await submit(
        stack.http,
        component="greet",
        params={"who": "ada", "times": "3"},
        env={"BOXOPS_PARAM_WHO": "eve"},
    )
    run = await wait_run(stack.http, run_id)

    assert run["state"] == "completed", run
    assert run["component"] == "greet@1"
    assert run["params"] == {"who": "ada", "times": 3}
    assert run["command"][-1] == "echo hello ada x3; echo $BOXOPS_PARAM_WHO"
    lines = (await stack.http.get(f"/v1/runs/{run_id}/logs")).json()["lines"]
    assert [line["line"] for line in lines] == ["hello ada x3", "ada"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"component": "nope"}, "unknown component 'nope'"),
        (
            {"component": "greet", "params": {"who": "a", "colour": "red"}},
            "unknown param 'colour' for greet@1",
        ),
        (
            {"component": "greet", "params": {"who": "a", "times": "many"}},
            "param 'times' must be int, got 'many'",
        ),
        ({"component": "greet"}, "missing required param 'who' (str) for greet@1"),
        (
            {"component": "greet", "params": {"who": "a"}, "inputs": {"data": "iris@9"}},
            "unknown dataset version 'iris@9'",
        ),
        ({"component": "needs-data"}, "missing required input 'data' (dataset) for needs-data@1"),
    ],
)
async def test_a_request_that_cannot_run_is_refused_with_the_reason(
    stack: Stack, body: dict[str, Any], reason: str
) -> None:
    await register(stack, GREET)
    await register(
        stack,
        "kind: component\nname: needs-data\ncommand: ['true']\ninputs: {data: {type: dataset}}\n",
    )
    response = await stack.http.post("/v1/runs", json=body)
    assert response.status_code == 422, response.text
    run = await wait_run(stack.http, response.json()["id"])
    assert run["state"] == "failed"
    assert run["substate"] == "rejected"
    assert run["reason"].startswith(reason), run["reason"]


def step(name: str, command: str, *, extra: str = "") -> str:
    return f"""
kind: component
name: {name}
command: [sh, -c, "{command}"]
{extra}"""


PIPELINE = """
kind: pipeline
name: diamond
steps:
  first: {component: quick}
  left: {component: slow, after: [first]}
  right: {component: slow, after: [first]}
  last: {component: quick, after: [left, right]}
"""


async def test_a_pipeline_runs_its_steps_in_order_with_independent_ones_in_parallel(
    stack: Stack,
) -> None:
    await register(stack, step("quick", "true"))
    await register(stack, step("slow", "sleep 0.5"))
    await register(stack, PIPELINE, "pipelines")

    run = await wait_run(stack.http, await submit(stack.http, pipeline="diamond"))
    assert run["state"] == "completed", run
    assert run["kind"] == "pipeline"
    steps = {s["step"]: s for s in run["steps"]}
    assert {s["state"] for s in steps.values()} == {"completed"}
    children = {name: await wait_run(stack.http, s["run_id"]) for name, s in steps.items()}
    started = {n: _at(c, "running") for n, c in children.items()}
    ended = {n: c["history"][-1]["at"] for n, c in children.items()}
    assert ended["first"] <= min(started["left"], started["right"])
    assert started["left"] < ended["right"] and started["right"] < ended["left"]  # overlapped
    assert max(ended["left"], ended["right"]) <= started["last"]
    assert all(c["parent_id"] == run["id"] for c in children.values())


async def test_a_failed_step_skips_its_dependants_and_fails_the_pipeline(stack: Stack) -> None:
    await register(stack, step("quick", "true"))
    await register(stack, step("slow", "exit 4"))
    await register(stack, PIPELINE, "pipelines")

    run = await wait_run(stack.http, await submit(stack.http, pipeline="diamond"))
    assert run["state"] == "failed"
    assert run["reason"] in ("step left failed", "step right failed")
    steps = {s["step"]: s for s in run["steps"]}
    assert steps["last"]["state"] == "aborted"
    assert steps["last"]["reason"].startswith("skipped: upstream step")


async def test_a_cached_step_reuses_an_earlier_run(stack: Stack) -> None:
    await register(stack, step("quick", "true"))
    await register(stack, step("slow", "echo computed", extra="cache: true"))
    await register(stack, PIPELINE, "pipelines")

    first = await wait_run(stack.http, await submit(stack.http, pipeline="diamond"))
    second = await wait_run(stack.http, await submit(stack.http, pipeline="diamond"))
    assert first["state"] == second["state"] == "completed"
    sources = {s["run_id"] for s in first["steps"] if s["step"] in ("left", "right")}
    reused = next(s for s in second["steps"] if s["step"] == "left")
    assert reused["substate"] == "cached"
    assert reused["reason"] in {f"completed (cached from {r})" for r in sources}


async def test_aborting_a_pipeline_aborts_its_running_steps(stack: Stack) -> None:
    await register(stack, step("quick", "true"))
    await register(stack, step("slow", "sleep 30"))
    await register(stack, PIPELINE, "pipelines")
    run_id = await submit(stack.http, pipeline="diamond")

    async def slow_steps_running() -> bool:
        run = (await stack.http.get(f"/v1/runs/{run_id}")).json()
        return sum(s["state"] == "running" for s in run.get("steps", [])) == 2

    await eventually(slow_steps_running)
    assert (await stack.http.post(f"/v1/runs/{run_id}/abort")).status_code == 202
    run = await wait_run(stack.http, run_id, timeout=10)
    assert run["state"] == "aborted"
    states = {s["step"]: (s["state"], s["reason"]) for s in run["steps"]}
    assert states["left"] == ("aborted", "aborted by user")
    assert states["right"] == ("aborted", "aborted by user")
    assert states["last"] == ("aborted", "skipped: aborted by user")


def _at(run: dict[str, Any], state: str) -> str:
    return next(t["at"] for t in run["history"] if t["state"] == state)


async def test_max_concurrency_holds_a_second_run_until_the_first_ends(stack: Stack) -> None:
    await register(stack, step("single", "sleep 1", extra="max_concurrency: 1"))
    first = await submit(stack.http, component="single")
    second = await submit(stack.http, component="single")

    async def held() -> str | None:
        reason = (await stack.http.get(f"/v1/runs/{second}")).json().get("reason", "")
        return reason if reason.startswith("concurrency limit") else None

    assert await eventually(held) == "concurrency limit 1 reached for component:single"
    runs = [await wait_run(stack.http, run_id) for run_id in (first, second)]
    assert [r["state"] for r in runs] == ["completed", "completed"]
    assert runs[0]["history"][-1]["at"] <= _at(runs[1], "running")


async def test_runs_of_a_pinned_version_ask_the_registry_for_it_once(
    stack: Stack, nats_url: str
) -> None:
    await register(stack, GREET)
    asked: list[bytes] = []

    async def on_ask(msg: Msg) -> None:
        asked.append(msg.data)

    client = await nats.connect(nats_url)
    await client.subscribe(COMPONENT_GET, cb=on_ask)
    try:
        for who in ("ada", "bob", "cy"):
            run_id = await submit(stack.http, component="greet@1", params={"who": who})
            assert (await wait_run(stack.http, run_id))["state"] == "completed"
        run_id = await submit(stack.http, component="greet", params={"who": "dee"})
        assert (await wait_run(stack.http, run_id))["component"] == "greet@1"
    finally:
        await client.close()
    # A pinned version is asked for once; the latest every time a run names it (a newer one
    # may be registered meanwhile), and again if a request is repeated (its reply was late).
    refs = [json.loads(data)["ref"] for data in asked]
    assert refs.count("greet@1") == 1 and refs[0] == "greet@1", refs
    assert set(refs[1:]) == {"greet"}, refs


SIZED = """
kind: component
name: sized
command: ['true']
resources: {cpu: 0.25, memory_mb: 300}
timeout: 60
retries: 2
"""
OWN = {"cpu": 0.25, "memory_mb": 300, "gpu": 0, "pids": 4096}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, {"resources": OWN, "timeout_s": 60, "retries": 2}),
        ({"resources": None}, {"resources": OWN}),
        (
            {"resources": {"cpu": 0.5}, "timeout_s": 5, "retries": 0},
            {
                "resources": {"cpu": 0.5, "memory_mb": 512, "gpu": 0, "pids": 4096},
                "timeout_s": 5,
                "retries": 0,
            },
        ),
    ],
)
async def test_a_submitted_component_keeps_its_own_settings_unless_the_request_sets_them(
    stack: Stack, body: dict[str, Any], expected: dict[str, Any]
) -> None:
    await register(stack, SIZED)
    run = await wait_run(stack.http, await submit(stack.http, component="sized", **body))
    assert run["state"] == "completed", run
    assert {field: run[field] for field in expected} == expected


FIT = """
kind: component
name: fit-sales
type: training
command: [sh, -c, "echo '::param name=rows value=400'"]
params:
  alpha: {type: float, default: 0.5}
  epochs: {type: int, default: 3}
"""


async def test_a_retry_asks_only_for_the_params_requested_not_those_the_program_reported(
    stack: Stack,
) -> None:
    await register(stack, FIT)
    first = await wait_run(
        stack.http, await submit(stack.http, component="fit-sales", params={"epochs": 7})
    )
    assert first["state"] == "completed", first
    assert first["params"] == {"alpha": 0.5, "epochs": 7}
    assert first["reported_params"] == {"rows": "400"}

    response = await stack.http.post(f"/v1/runs/{first['id']}/retry")
    assert response.status_code == 202, response.text
    second = await wait_run(stack.http, response.json()["id"])

    assert second["state"] == "completed", second
    assert second["cause"]["retry_of"] == first["id"]
    assert second["params"] == {"alpha": 0.5, "epochs": 7}
    assert second["reported_params"] == {"rows": "400"}


ECHO = """
kind: component
name: echo
command: [sh, -c, 'echo "$1"', sh, "{{ params.text }}"]
params:
  text: {type: str, required: true}
outputs:
  out: {type: file}
"""


@pytest.mark.parametrize("text", ["{{ outputs.out }}", "{{ outputs.nope }}", "{{ run.id }}"])
async def test_a_param_value_that_looks_like_a_placeholder_reaches_the_program_as_written(
    stack: Stack, text: str
) -> None:
    await register(stack, ECHO)
    run = await wait_run(
        stack.http, await submit(stack.http, component="echo", params={"text": text})
    )

    assert run["state"] == "completed", run["reason"]
    lines = (await stack.http.get(f"/v1/runs/{run['id']}/logs")).json()["lines"]
    assert [line["line"] for line in lines] == [text]


async def test_a_pipeline_named_where_a_component_is_expected_runs_the_pipeline(
    stack: Stack,
) -> None:
    await register(stack, step("quick", "true"))
    flow = "kind: pipeline\nname: flow\nsteps: {only: {component: quick}}\n"
    await register(stack, flow, "pipelines")

    run = await wait_run(stack.http, await submit(stack.http, component="flow"))
    assert (run["state"], run["kind"], run["pipeline"]) == ("completed", "pipeline", "flow@1")
    assert run["component"] is None
    assert [(s["step"], s["executor_id"]) for s in run["steps"]] == [("only", "ex1")]

    answer = await stack.http.post("/v1/runs", json={"component": "neither"})
    assert answer.status_code == 422, answer.text
    refused = await wait_run(stack.http, answer.json()["id"])
    assert refused["reason"] == "unknown component 'neither': no component or pipeline 'neither'"
