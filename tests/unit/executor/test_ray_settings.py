"""The executor's Ray settings: an address is the dashboard's URL, named when it is wrong."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from services.executor.settings import ExecutorSettings


def settings(tmp_path: Path, address: str) -> ExecutorSettings:
    return ExecutorSettings(home=tmp_path / "home", ray_address=address)


def test_the_ray_address_is_kept_without_a_trailing_slash(tmp_path: Path) -> None:
    assert settings(tmp_path, "http://10.0.0.5:8265/").ray_address == "http://10.0.0.5:8265"
    assert settings(tmp_path, "").ray_address == ""


@pytest.mark.parametrize("address", ["127.0.0.1:8265", "ray://head:10001", "http://"])
def test_a_ray_address_that_is_not_the_dashboards_url_is_refused(
    tmp_path: Path, address: str
) -> None:
    with pytest.raises(ValidationError, match="must be the Ray dashboard's http"):
        settings(tmp_path, address)
