"""The CLI reads BOXOPS_HOME without pydantic-settings, and finds the home the services use."""

from pathlib import Path

import pytest

from shared.home import home
from shared.settings import BoxopsSettings


@pytest.mark.parametrize("value", [None, "/srv/boxops", "state/boxops", "~/elsewhere", "a/../b"])
def test_the_cli_reads_the_home_the_settings_read(
    value: str | None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # a relative home is taken from where the command runs
    if value is None:
        monkeypatch.delenv("BOXOPS_HOME", raising=False)
    else:
        monkeypatch.setenv("BOXOPS_HOME", value)
    assert home() == BoxopsSettings().home
    assert home().is_absolute()


def test_an_unset_home_is_under_the_users_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOXOPS_HOME", raising=False)
    assert home() == Path.home().resolve() / ".boxops"
