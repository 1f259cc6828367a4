"""Sweeps end to end: registry, scheduler, tuner, executor and gateway on a real
nats-server and database; trials are real processes (a scikit-learn tree on iris, or a
shell one-liner)."""

import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Stack, start_stack, stop_stack, submit, wait_run
from tests.integration.test_component_runs import register

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "iris"
# A trial that prints `score` = its param x, after `nap` seconds; exit code `code`.
ECHO = """
kind: component
name: echo
command:
  - sh
  - -c
  - "sleep {{ params.nap }}; echo ::metric name=score value={{ params.x }}; exit {{ params.code }}"
params:
  x: {type: float, default: 0}
  nap: {type: float, default: 0}
  code: {type: int, default: 0}
resources: {cpu: 0.1, memory_mb: 16}
"""


def example(name: str) -> str:
    text = (EXAMPLES / name).read_text()
    return text.replace("{{ python }}", sys.executable).replace("{{ spec.dir }}", str(EXAMPLES))


def sweep(name: str, space: str, **fields: Any) -> str:
    lines = [
        "kind: sweep",
        f"name: {name}",
        "target: {component: echo}",
        "objective: {metric: score, direction: maximize}",
        "space:",
        *[f"  {line}" for line in space.strip().splitlines()],
        *[f"{key}: {value}" for key, value in fields.items()],
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture
async def stack(nats_url: str, db: tuple[str, str], tmp_path: Path) -> AsyncIterator[Stack]:
    running = await start_stack(nats_url, db, tmp_path / "home", services=("registry", "tuner"))
    await register(running, ECHO)
    yield running
    await stop_stack(running)


async def trials(stack: Stack, sweep_id: str) -> list[dict[str, Any]]:
    response = await stack.http.get("/v1/runs", params={"parent_id": sweep_id, "limit": 500})
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def test_a_sweep_of_a_tree_on_iris_beats_its_default_params(stack: Stack) -> None:
    await register(stack, example("tree.yaml"))
    await register(stack, example("sweep.yaml").replace("pruner: median", "pruner: none"), "sweeps")
    default = await wait_run(
        stack.http, await submit(stack.http, component="iris-tree"), timeout=60
    )
    assert default["state"] == "completed", default
    baseline = default["metrics"]["accuracy"]["last"]

    sweep_id = await submit(stack.http, sweep="iris-tree-search")
    run = await wait_run(stack.http, sweep_id, timeout=300)
    assert run["state"] == "completed", run
    best = run["outputs"]["best"]
    assert best["metrics"]["accuracy"] > baseline + 0.1, (best, baseline)
    assert set(run["outputs"]["importances"]["metrics"]) <= {
        "max_depth",
        "min_samples_leaf",
        "criterion",
    }
    assert "(20 completed, 0 failed, 0 pruned)" in run["reason"]
    children = await trials(stack, sweep_id)
    assert len(children) == 20 and {c["state"] for c in children} == {"completed"}
    assert best["metadata"]["run_id"] in {c["id"] for c in children}


async def test_a_failing_trial_counts_as_failed_and_the_sweep_goes_on(stack: Stack) -> None:
    # code 1 fails the trial; with x < 0.5 the trial fails, the others complete.
    space = "x: {type: float, low: 0, high: 1}"
    text = sweep("flaky", space, trials=6, parallel=2, sampler="random")
    await register(stack, text, "sweeps")
    sweep_id = await submit(stack.http, sweep="flaky", params={"code": 0})
    run = await wait_run(stack.http, sweep_id, timeout=120)
    assert run["state"] == "completed" and len(await trials(stack, sweep_id)) == 6

    await register(stack, sweep("broken", space, trials=3, parallel=3), "sweeps")
    failed_id = await submit(stack.http, sweep="broken", params={"code": 3})
    failed = await wait_run(stack.http, failed_id, timeout=120)
    assert failed["state"] == "failed"
    assert failed["reason"].startswith("no trial completed (3 failed); the last: ")
    assert len(await trials(stack, failed_id)) == 3


async def test_an_objective_the_target_never_logs_fails_the_sweep_after_one_trial(
    stack: Stack,
) -> None:
    text = sweep("wrong", "x: {type: float, low: 0, high: 1}", trials=40)
    await register(stack, text.replace("metric: score", "metric: loss"), "sweeps")
    sweep_id = await submit(stack.http, sweep="wrong")
    run = await wait_run(stack.http, sweep_id, timeout=60)
    assert run["state"] == "failed"
    assert "the objective metric 'loss' was not logged by trial 0" in run["reason"]
    assert len(await trials(stack, sweep_id)) == 1


async def test_a_grid_sweep_runs_each_point_of_its_grid_once(stack: Stack) -> None:
    space = "x: {type: float, low: 0, high: 1, step: 0.25}\nnap: {type: choice, values: [0, 0.01]}"
    await register(stack, sweep("grid", space, trials=100, parallel=4, sampler="grid"), "sweeps")
    sweep_id = await submit(stack.http, sweep="grid")
    run = await wait_run(stack.http, sweep_id, timeout=120)
    assert run["state"] == "completed", run
    children = await trials(stack, sweep_id)
    points = sorted((c["params"]["x"], c["params"]["nap"]) for c in children)
    assert points == sorted((x / 4, nap) for x in range(5) for nap in (0, 0.01))
    assert run["outputs"]["best"]["metrics"]["score"] == 1.0


async def test_aborting_a_sweep_aborts_its_trials_and_asks_for_no_more(stack: Stack) -> None:
    await register(
        stack, sweep("slow", "x: {type: float, low: 0, high: 1}", trials=10, parallel=2), "sweeps"
    )
    sweep_id = await submit(stack.http, sweep="slow", params={"nap": 60})

    async def two_running() -> list[dict[str, Any]]:
        found = await trials(stack, sweep_id)
        return found if [c["state"] for c in found].count("running") == 2 else []

    from tests.conftest import eventually

    await eventually(two_running, timeout=60)
    assert (await stack.http.post(f"/v1/runs/{sweep_id}/abort")).status_code == 202
    assert (await wait_run(stack.http, sweep_id))["state"] == "aborted"
    for child in await trials(stack, sweep_id):
        assert (await wait_run(stack.http, child["id"], timeout=30))["state"] == "aborted"
    assert len(await trials(stack, sweep_id)) == 2


# A learning curve per step: a trial with a smaller `x` lags behind from its first step.
CURVE = """
kind: component
name: curve
command:
  - PYTHON
  - -c
  - |
    import time
    x = {{ params.x }}
    for step in range(8):
        print(f"::metric name=score value={x * (step + 1):.4f} step={step}", flush=True)
        time.sleep(0.3)
params:
  x: {type: float, default: 0}
resources: {cpu: 0.1, memory_mb: 16}
"""


async def test_trials_whose_curves_lag_are_pruned_as_they_log(stack: Stack) -> None:
    await register(stack, CURVE.replace("PYTHON", sys.executable))
    text = sweep("pruned", "x: {type: float, low: 0, high: 1}", trials=12, parallel=2)
    text = text.replace("component: echo", "component: curve")
    await register(stack, text + "sampler: random\npruner: median\n", "sweeps")
    sweep_id = await submit(stack.http, sweep="pruned")
    run = await wait_run(stack.http, sweep_id, timeout=240)
    assert run["state"] == "completed", run
    children = await trials(stack, sweep_id)
    pruned = [c for c in children if c["reason"].startswith("pruned at step")]
    assert pruned and len(children) == 12, [(c["state"], c["reason"]) for c in children]
    for trial in pruned:
        assert re.fullmatch(r"pruned at step \d+ \(median of \d+ trials: [\d.]+\)", trial["reason"])
    assert f"{len(pruned)} pruned)" in run["reason"]
