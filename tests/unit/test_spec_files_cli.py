"""Every command that reads a spec file names a broken one in one line, before any request.

No stack runs here: a command that sent the file first would say that boxops is not
running instead of naming the mistake."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from boxops.cli.main import app

runner = CliRunner()

READERS = [
    ["components", "register"],
    ["pipelines", "register"],
    ["triggers", "apply"],
    ["triggers", "test"],
    ["monitors", "apply"],
]


@pytest.fixture(autouse=True)
def no_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOXOPS_HOME", str(tmp_path))
    monkeypatch.delenv("BOXOPS_GATEWAY_URL", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("command", READERS, ids=" ".join)
def test_an_unclosed_bracket_names_the_file_line_and_column(command: list[str]) -> None:
    Path("broken.yaml").write_text("kind: component\nname: train\ncommand: [python, train.py\n")
    result = runner.invoke(app, [*command, "broken.yaml"])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == ["broken.yaml, line 3, column 10: expected ',' or ']'"]
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", READERS, ids=" ".join)
def test_a_misplaced_colon_is_located_where_the_parser_stopped(command: list[str]) -> None:
    Path("broken.yaml").write_text("kind: trigger\nname: t\nab: [b: c: d]\n")
    result = runner.invoke(app, [*command, "broken.yaml"])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        "broken.yaml, line 3, column 10: expected ',' or ']', but got ':'"
    ]


@pytest.mark.parametrize("command", READERS, ids=" ".join)
def test_a_file_that_is_not_text_is_one_line(command: list[str]) -> None:
    Path("model.yaml").write_bytes(b"kind: component\nname: \xff\xfe\n")
    result = runner.invoke(app, [*command, "model.yaml"])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == ["model.yaml: not UTF-8 text (byte 22)"]


@pytest.mark.parametrize("command", READERS, ids=" ".join)
def test_a_control_character_is_one_line_with_its_position(command: list[str]) -> None:
    Path("broken.yaml").write_text("kind: component\nname: \x00\n")
    result = runner.invoke(app, [*command, "broken.yaml"])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        "broken.yaml, character 23: unacceptable character #x0000: "
        "special characters are not allowed"
    ]
