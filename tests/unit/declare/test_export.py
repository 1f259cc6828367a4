"""`boxops pipelines export FILE.py` and `boxops components export FILE.py`: YAML that
`shared.specs.load` reads back into the very spec the decorators compile, the same as the
YAML twin beside the example; and a bad Python file named before any request is sent."""

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from boxops.cli.main import app
from boxops.cli.spec_files import filled
from boxops.declare.files import declared_in
from shared.specs import ComponentSpec, PipelineSpec, load

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "python"
FLOW = EXAMPLE / "flow.py"
runner = CliRunner()


@pytest.fixture(autouse=True)
def no_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOXOPS_HOME", str(tmp_path))
    monkeypatch.delenv("BOXOPS_GATEWAY_URL", raising=False)
    monkeypatch.chdir(tmp_path)


def declared() -> dict[str, Any]:
    return {item.name: item.spec for item in declared_in(FLOW)}


def test_the_exported_pipeline_loads_back_into_the_compiled_spec() -> None:
    done = runner.invoke(app, ["pipelines", "export", str(FLOW)])
    assert done.exit_code == 0, done.output
    assert load(done.stdout, {"pipeline": PipelineSpec}) == declared()["iris_tree"]


def test_the_exported_components_load_back_once_the_cli_fills_them_in() -> None:
    done = runner.invoke(app, ["components", "export", str(FLOW)])
    assert done.exit_code == 0, done.output
    documents = done.stdout.split("---\n")
    specs: list[Any] = [
        load(filled(text, FLOW), {"component": ComponentSpec}) for text in documents
    ]
    assert [spec.name for spec in specs] == ["fit_tree", "score_tree"]
    compiled = declared()
    for spec in specs:
        runner_command = [sys.executable, "-m", "boxops.entry", "--path", str(EXAMPLE)]
        assert spec.command == [*runner_command, f"flow:{spec.name}"]
        assert (
            spec.model_copy(update={"command": compiled[spec.name].command}) == compiled[spec.name]
        )


@pytest.mark.parametrize("name", ["fit_tree", "score_tree", "iris_tree"])
def test_the_yaml_twin_beside_the_example_is_what_the_python_file_compiles_to(name: str) -> None:
    twin = yaml.safe_load((EXAMPLE / f"{name}.yaml").read_text())
    model = ComponentSpec if twin["kind"] == "component" else PipelineSpec
    assert model.model_validate(twin) == declared()[name]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "import boxops\n@boxops.component\ndef fit(data): ...\n",
            "bad.py: component fit (fit): parameter 'data' has no type annotation (one of int, "
            "float, str, bool, list, dict, boxops.Dataset, boxops.Model or boxops.File)",
        ),
        (
            "x = 1\ny = 1 / 0\n",
            "bad.py: importing it failed: ZeroDivisionError: division by zero (line 2)",
        ),
        ("def (:\n", "bad.py: importing it failed: SyntaxError: invalid syntax (line 1)"),
        ("import boxops\n", "bad.py: declares no component (@boxops.component)"),
    ],
)
@pytest.mark.parametrize("command", [["components", "register"], ["components", "export"]])
def test_a_bad_python_file_is_one_line_naming_it_before_any_request(
    source: str, message: str, command: list[str]
) -> None:
    Path("bad.py").write_text(source)
    done = runner.invoke(app, [*command, "bad.py"])
    assert done.exit_code == 2, done.output
    assert done.stderr.splitlines() == [message]


def test_a_pipeline_step_using_an_output_that_does_not_exist_is_named() -> None:
    Path("wired.py").write_text(
        "import boxops\n"
        "@boxops.component(outputs={'model': boxops.Model('m')})\n"
        "def fit(data: boxops.Dataset): ...\n"
        "@boxops.component\n"
        "def score(model: boxops.Model): ...\n"
        "@boxops.pipeline\n"
        "def flow(data: boxops.Dataset):\n"
        "    score(model=fit(data=data).outputs.weights)\n"
    )
    done = runner.invoke(app, ["pipelines", "register", "wired.py"])
    assert done.exit_code == 2, done.output
    assert done.stderr.splitlines() == [
        "pipeline flow (flow): step 'fit' has no output 'weights' (fit declares: model)"
    ]


def test_export_reads_python_files_only() -> None:
    Path("flow.yaml").write_text("kind: pipeline\n")
    done = runner.invoke(app, ["pipelines", "export", "flow.yaml"])
    assert done.exit_code == 2, done.output
    assert done.stderr.splitlines() == ["flow.yaml: export reads a Python file declaring pipelines"]
