"""A pipeline declared in Python (examples/python/flow.py) on a stack started with
`boxops up --detach`: registered from the .py file with the CLI, run end to end through
`boxops.AsyncClient`, then its YAML twin beside it registered (the same versions) and run
through `boxops.Client`, with the same result."""

import asyncio
import json
from pathlib import Path
from typing import Any

from boxops.async_client import AsyncClient
from boxops.cli.quickstart import _write_iris
from boxops.client import Client
from shared.queries import RunView
from tests.e2e.test_embedded_stack import boxops
from tests.e2e.test_examples import running  # noqa: F401 - the stack, a fixture

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "python"
SUBMITTED = {"pipeline": "iris_tree", "inputs": {"data": "iris@1"}, "params": {"max_depth": 2}}


def registered(env: dict[str, str], *args: str) -> list[tuple[str, int, bool]]:
    done = boxops(env, *args, "--json")
    assert done.returncode == 0, done.stderr + done.stdout
    answers = json.loads(done.stdout)
    answers = answers if isinstance(answers, list) else [answers]
    return [(a["name"], a["version"], a["created"]) for a in answers]


def result(run: RunView, steps: list[RunView]) -> dict[str, Any]:
    """What a pipeline run gave: its state and params, and each step's state, params,
    metrics and outputs (their kind, name and files)."""
    return {
        "pipeline": (run.pipeline, run.state, run.params),
        "steps": {
            step.step: {
                "state": step.state,
                "component": step.component,
                "params": step.params,
                "metrics": {name: summary.last for name, summary in step.metrics.items()},
                "outputs": {
                    name: (out.type, out.name, out.metrics, sorted(f.path for f in out.files))
                    for name, out in step.outputs.items()
                },
            }
            for step in steps
        },
    }


async def run_async(home: Path) -> dict[str, Any]:
    async with AsyncClient.from_env(home) as gateway:
        accepted = await gateway.submit(**SUBMITTED)
        run = await gateway.wait(accepted.id, timeout=240)
        steps = [await gateway.wait(step.run_id, timeout=30) for step in run.steps]
        assert await gateway.model_version("iris-tree") is not None
        return result(run, steps)


def run_sync(home: Path) -> dict[str, Any]:
    with Client.from_env(home) as gateway:
        run = gateway.wait(gateway.submit(**SUBMITTED).id, timeout=240)
        return result(run, [gateway.wait(step.run_id, timeout=30) for step in run.steps])


def test_a_python_declared_pipeline_runs_as_its_yaml_twin_does(
    running: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    home = Path(running["BOXOPS_HOME"])
    _write_iris(tmp_path / "iris", noise=0.0, seed=1)
    pushed = boxops(running, "datasets", "push", "iris", str(tmp_path / "iris"), "--type", "table")
    assert pushed.returncode == 0, pushed.stderr

    from_python = registered(running, "pipelines", "register", str(EXAMPLE / "flow.py"))
    assert from_python == [("fit_tree", 1, True), ("score_tree", 1, True), ("iris_tree", 1, True)]
    python_run = asyncio.run(run_async(home))

    twins = [("components", "fit_tree"), ("components", "score_tree"), ("pipelines", "iris_tree")]
    for group, name in twins:
        twin = registered(running, group, "register", str(EXAMPLE / f"{name}.yaml"))
        assert twin == [(name, 1, False)]  # the same spec: the same version
    yaml_run = run_sync(home)

    assert python_run == yaml_run
    fit, score = python_run["steps"]["fit_tree"], python_run["steps"]["score_tree"]
    assert python_run["pipeline"] == ("iris_tree@1", "completed", {"max_depth": 2})
    assert (fit["state"], fit["params"]) == ("completed", {"max_depth": 2})
    assert fit["outputs"]["model"][:2] == ("model", "iris-tree")
    assert fit["outputs"]["model"][3] == ["model.pkl"]
    assert 0.9 < fit["metrics"]["train_accuracy"] <= 1
    assert score["state"] == "completed"
    assert 0.9 < score["outputs"]["scores"][2]["accuracy"] <= 1
