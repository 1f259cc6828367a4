"""The specs under examples/ as a user has them: registered with the CLI as they are, on a
stack started with `boxops up --detach`, and run to completion."""

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from boxops.cli.quickstart import _write_iris
from tests.conftest import free_port
from tests.e2e.test_embedded_stack import boxops

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# Components before the pipelines that use them; triggers and monitors last, so nothing
# starts by itself while the test runs its own.
COMMANDS = {
    "component": ("components", "register"),
    "pipeline": ("pipelines", "register"),
    "monitor": ("monitors", "apply"),
    "trigger": ("triggers", "apply"),
}


def specs() -> list[tuple[str, Path]]:
    """(kind, file) of every spec under examples/, in registration order."""
    found = [(_kind(path), path) for path in EXAMPLES.rglob("*.yaml")]
    return sorted(found, key=lambda spec: (list(COMMANDS).index(spec[0]), str(spec[1])))


def _kind(path: Path) -> str:
    """The kind of a file's specs (a file of several holds one kind)."""
    kinds = {spec["kind"] for spec in yaml.safe_load_all(path.read_text())}
    assert len(kinds) == 1, f"{path}: specs of several kinds"
    return str(kinds.pop())


@pytest.fixture
def running(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    env["BOXOPS_HOME"] = str(tmp_path / "home")
    # What the notify examples name: a notify target is refused while its variable is unset.
    env["BOXOPS_NOTIFY_CHAT_URL"] = "https://chat.example.com/hooks/boxops"
    env["BOXOPS_NOTIFY_WEBHOOK_SECRET"] = "example-key"
    try:
        started = boxops(env, "up", "--detach", "--port", str(free_port()))
        assert started.returncode == 0, started.stderr + started.stdout
        yield env
    finally:
        boxops(env, "down")


def test_every_example_registers_as_it_is_and_the_iris_pipeline_runs(
    running: dict[str, str], tmp_path: Path
) -> None:
    assert {kind for kind, _ in specs()} == set(COMMANDS)  # each kind has an example
    for kind, path in specs():
        if kind == "monitor":
            _runs(running, tmp_path)
        done = boxops(running, *COMMANDS[kind], str(path))
        assert done.returncode == 0, f"{path}: {done.stderr}{done.stdout}"


def _runs(env: dict[str, str], tmp_path: Path) -> None:
    """An example component, then the example pipeline named without --pipeline."""
    _write_iris(tmp_path / "iris", noise=0.0, seed=1)
    pushed = boxops(env, "datasets", "push", "iris", str(tmp_path / "iris"), "--type", "table")
    assert pushed.returncode == 0, pushed.stderr

    prepare = boxops(env, "runs", "submit", "prepare", "-i", "raw=iris@1", "--wait", "--json")
    assert prepare.returncode == 0, prepare.stderr + prepare.stdout
    assert json.loads(prepare.stdout)["state"] == "completed"

    pipeline = boxops(env, "runs", "submit", "iris-train", "-i", "data=iris@1", "--wait", "--json")
    assert pipeline.returncode == 0, pipeline.stderr + pipeline.stdout
    run = json.loads(pipeline.stdout)
    assert (run["state"], run["kind"], run["pipeline"]) == ("completed", "pipeline", "iris-train@1")
    shown = boxops(env, "runs", "show", run["id"]).stdout.splitlines()
    executor = next(line for line in shown if line.startswith("executor"))
    assert executor.startswith("executor  (pipeline) steps on "), executor
