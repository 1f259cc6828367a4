"""Fixtures of the end-to-end tests: one quickstart-seeded stack for every browser test
(it takes a minute to seed), and a signed-in chromium page a test."""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.browser import CHROMIUM, Stack, Watched, quickstarted_stack, signed_in_page

if TYPE_CHECKING:
    from playwright.sync_api import Page


@pytest.fixture(scope="session")
def ui_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A live `boxops quickstart` stack: the iris datasets, pipeline runs, models, the
    confusion matrices, the trigger and the monitor, for the pages to show."""
    with quickstarted_stack(tmp_path_factory.mktemp("ui")) as stack:
        yield stack


@pytest.fixture
def page(
    ui_stack: Stack, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple["Page", Watched]]:
    pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium")
    shots = Path(os.environ.get("BOXOPS_SCREENSHOTS", tmp_path))
    with signed_in_page(ui_stack, shots, request.node.name) as opened:
        yield opened
