"""The CLI fills `{{ spec.dir }}` and `{{ python }}` of a spec file, and refuses any other
placeholder nothing would fill, naming file, field and line, before any request."""

import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from boxops.cli.main import app
from boxops.cli.spec_files import spec_text

runner = CliRunner()


@pytest.fixture(autouse=True)
def no_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOXOPS_HOME", str(tmp_path))
    monkeypatch.delenv("BOXOPS_GATEWAY_URL", raising=False)
    monkeypatch.chdir(tmp_path)


def test_the_spec_files_folder_and_the_python_running_boxops_are_filled_in(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "my example"
    folder.mkdir()
    spec = folder / "train.yaml"
    spec.write_text('kind: component\nname: t\ncommand: ["{{ python }}", "{{ spec.dir }}/t.py"]\n')

    command = yaml.safe_load(spec_text(Path("my example/train.yaml")))["command"]
    assert command == [sys.executable, f"{folder.resolve()}/t.py"]


@pytest.mark.parametrize("group", ["components", "pipelines"])
def test_an_unknown_placeholder_names_file_field_and_line(group: str) -> None:
    kind = group[:-1]
    steps = "steps: {a: {component: x}}\n" if kind == "pipeline" else "command: [x]\n"
    Path("spec.yaml").write_text(
        f"kind: {kind}\nname: t\n{steps}labels: {{at: '{{{{ here }}}}'}}\n"
    )

    result = runner.invoke(app, [group, "register", "spec.yaml"])

    assert result.exit_code == 2, result.output
    assert "spec.yaml" in result.stderr
    assert f"labels.at (line 4): {{{{ here }}}} is not filled in here: a {kind} takes" in (
        result.stderr
    )
    assert "Traceback" not in result.output
