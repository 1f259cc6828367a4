"""`python -m boxops.entry`: a declared function run in a laid-out run contract (params.json,
inputs/<name>/, outputs/<name>/), as the executor lays it out, in a process of its own."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

STEPS = """
import json
from pathlib import Path

import boxops


@boxops.component(outputs={"model": boxops.Model("m"), "scores": boxops.Metrics()})
def fit(data: boxops.Dataset, depth: int = 3, rate: float = 0.5, base: boxops.Model | None = None):
    rows = (data / "rows.txt").read_text().split()
    Path("model.txt").write_text(f"{len(rows)} rows, depth {depth}, rate {rate}, base {base}")
    return {"model": Path("model.txt"), "scores": {"rows": len(rows), "depth": depth}}


@boxops.component(outputs={"report": boxops.File()})
def report(where: str):
    folder = Path("made")
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.txt").write_text(where)
    return folder


@boxops.component(outputs={"a": boxops.File(), "b": boxops.File()})
def two(x: int = 1):
    return 3


def plain():
    pass
"""


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "steps.py").write_text(STEPS)
    (tmp_path / "inputs" / "data").mkdir(parents=True)
    (tmp_path / "inputs" / "data" / "rows.txt").write_text("1 2 3 4\n")
    (tmp_path / "outputs").mkdir()
    (tmp_path / "work").mkdir()
    return tmp_path


def entry(
    root: Path, target: str, params: dict[str, object] | None, **variables: str
) -> subprocess.CompletedProcess[str]:
    """`python -m boxops.entry TARGET` in the run dir `root`; `params` None: no params.json."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    env |= {
        "PYTHONPATH": str(ROOT),
        "BOXOPS_INPUTS": str(root / "inputs"),
        "BOXOPS_OUTPUTS": str(root / "outputs"),
        **variables,
    }
    if params is not None:
        (root / "params.json").write_text(json.dumps(params))
        env["BOXOPS_PARAMS"] = str(root / "params.json")
    command = [sys.executable, "-m", "boxops.entry", "--path", str(root / "code"), target]
    return subprocess.run(
        command, cwd=root / "work", env=env, capture_output=True, text=True, timeout=60
    )


def test_the_function_gets_the_runs_params_and_inputs_and_its_outputs_are_written(
    run_dir: Path,
) -> None:
    done = entry(run_dir, "steps:fit", {"depth": 5})
    assert done.returncode == 0, done.stderr
    model = (run_dir / "outputs" / "model" / "model.txt").read_text()
    assert model == "4 rows, depth 5, rate 0.5, base None"
    scores = json.loads((run_dir / "outputs" / "scores" / "metrics.json").read_text())
    assert scores == {"rows": 4, "depth": 5}


def test_without_a_params_file_params_come_from_their_variables_by_their_types(
    run_dir: Path,
) -> None:
    variables = {"BOXOPS_PARAM_DEPTH": "7", "BOXOPS_INPUT_BASE_URI": "s3://models/base/"}
    done = entry(run_dir, "steps:fit", None, **variables)
    assert done.returncode == 0, done.stderr
    model = (run_dir / "outputs" / "model" / "model.txt").read_text()
    assert model == "4 rows, depth 7, rate 0.5, base s3://models/base/"

    wrong = entry(run_dir, "steps:fit", None, BOXOPS_PARAM_DEPTH="deep")
    assert wrong.returncode == 2
    assert wrong.stderr == "boxops.entry: param 'depth' must be int, got 'deep'\n"


def test_a_returned_folder_is_copied_into_the_single_output(run_dir: Path) -> None:
    done = entry(run_dir, "steps:report", {"where": "here"})
    assert done.returncode == 0, done.stderr
    assert (run_dir / "outputs" / "report" / "sub" / "a.txt").read_text() == "here"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("steps:plain", "steps:plain is not a @boxops.component"),
        ("steps", "expected MODULE:FUNCTION, got 'steps'"),
        ("steps:two", "two returned int, but declares the outputs a, b: return a dict keyed"),
    ],
)
def test_what_cannot_run_is_one_line_naming_why(run_dir: Path, target: str, message: str) -> None:
    done = entry(run_dir, target, {})
    assert done.returncode == 2
    assert done.stderr.startswith(f"boxops.entry: {message}"), done.stderr


def test_a_required_input_not_there_is_named(run_dir: Path) -> None:
    (run_dir / "inputs" / "data" / "rows.txt").unlink()
    (run_dir / "inputs" / "data").rmdir()
    done = entry(run_dir, "steps:fit", {})
    assert done.returncode == 2
    assert done.stderr.startswith("boxops.entry: input 'data' is not there:"), done.stderr
