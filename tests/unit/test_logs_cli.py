"""`boxops logs SERVICE`: the last lines of a service's log under BOXOPS_HOME."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from boxops.cli.main import app
from boxops.home import log_file

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BOXOPS_HOME", str(tmp_path))
    return tmp_path


def test_the_last_lines_of_a_services_log(home: Path) -> None:
    log = log_file(home, "scheduler")
    log.parent.mkdir()
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    result = runner.invoke(app, ["logs", "scheduler", "-n", "2"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["line 98", "line 99"]
    assert len(runner.invoke(app, ["logs", "scheduler"]).stdout.splitlines()) == 50


def test_an_unknown_service_is_one_line_naming_the_valid_ones(home: Path) -> None:
    result = runner.invoke(app, ["logs", "sched"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "no service 'sched': choose one of registry, artifact, scheduler, trigger, executor, "
        "gateway, nats"
    ]


def test_a_service_with_no_log_yet_says_where_it_looked(home: Path) -> None:
    result = runner.invoke(app, ["logs", "gateway"])
    assert result.exit_code == 2
    assert f"no log of gateway yet at {log_file(home, 'gateway')}" in result.stderr
