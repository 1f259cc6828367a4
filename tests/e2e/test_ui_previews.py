"""Artifact previews in a real browser on the quickstart's runs: the evaluation step's
confusion matrix as a labelled heatmap and its ROC and PR curves drawn with their AUC, the
prepare step's output tables with their schema, and a file downloaded from the page."""

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.browser import Stack, Watched

if TYPE_CHECKING:
    from playwright.sync_api import Page

IRIS = ["setosa", "versicolor", "virginica"]
LOGGING = """
import boxops, numpy
from PIL import Image
boxops.log_json("config", {"model": {"depth": 3, "layers": [64, 32]}})
boxops.log_array("weights", numpy.arange(6.0).reshape(2, 3))
Image.new("RGB", (40, 30), (200, 0, 0)).save("red.png")
boxops.log_artifact("red.png")
for i in range(8):
    boxops.log_json(f"extra-{i}", {"i": i})
boxops.log_curve("loss", [0, 1, 2], [1.0, 0.5, 0.25], x_label="epoch", y_label="loss")
"""


@pytest.fixture(scope="module")
def logged_run(ui_stack: Stack) -> str:
    """A run that logged JSON, an array, an image and more files than are previewed at
    once."""
    run_id = ui_stack.client.submit(command=[sys.executable, "-c", LOGGING]).id
    assert ui_stack.client.wait(run_id, timeout=60).state == "completed"
    return run_id


def step_run(stack: Stack, component: str) -> str:
    runs = stack.client.runs(component=component, state="completed")
    assert runs, f"the quickstart ran no {component} step"
    return runs[0].id


def test_an_evaluation_shows_its_confusion_matrix_with_the_iris_classes_and_its_curves(
    ui_stack: Stack, page: tuple["Page", Watched]
) -> None:
    tab, watched = page
    run_id = step_run(ui_stack, "evaluate")

    tab.goto(f"/runs/{run_id}")
    heatmap = tab.locator("#artifacts table.heatmap")
    heatmap.wait_for()

    assert heatmap.locator("thead th").all_inner_texts() == [
        "actual \\ predicted",
        *IRIS,
        "total",
    ]
    assert heatmap.locator("tbody th").all_inner_texts() == IRIS
    counts = [int(text) for text in heatmap.locator("td.heat").all_inner_texts()]
    assert len(counts) == 9 and sum(counts) == 45  # the 30 % of 150 rows kept for testing
    shades = heatmap.locator("td.heat").evaluate_all(
        "cells => cells.map(c => getComputedStyle(c).backgroundColor)"
    )
    assert len(set(shades)) > 1  # shaded, besides the numbers
    for name in ("roc-setosa", "pr-setosa"):
        curve = tab.locator(f"#artifacts .artifact:has(h4:text-is('{name}'))")
        curve.locator(".curve canvas").first.wait_for()  # drawn by uPlot
        assert re.search(r"AUC [01]\.\d{3}", curve.inner_text()), curve.inner_text()
    assert watched.problems == []


def test_a_prepare_steps_output_tables_show_their_schema_and_download(
    ui_stack: Stack, page: tuple["Page", Watched], tmp_path: Path
) -> None:
    tab, watched = page
    tab.goto(f"/runs/{step_run(ui_stack, 'prepare')}")
    train = tab.locator("#artifacts .artifact:has(h4:text-is('train.csv'))")
    train.locator("table.frame").wait_for()

    assert "105 rows · 5 columns · csv" in train.inner_text()
    headers = train.locator("thead th").all_inner_texts()
    assert [" ".join(h.split()) for h in headers][-1] == "species string"
    with tab.expect_download() as started:
        train.get_by_role("link", name="Download").click()
    saved = tmp_path / "train.csv"
    started.value.save_as(saved)

    assert started.value.suggested_filename == "train.csv"
    assert saved.read_text().splitlines()[0].endswith(",species")
    assert len(saved.read_text().splitlines()) == 106
    assert watched.problems == []


def test_json_opens_by_keyboard_images_load_and_a_later_preview_opens_on_demand(
    logged_run: str, page: tuple["Page", Watched]
) -> None:
    tab, watched = page
    tab.goto(f"/runs/{logged_run}")
    config = tab.locator("#artifacts .artifact:has(h4:text-is('config'))")
    layers = config.locator("summary:has(.key:text-is('layers'))")
    layers.wait_for()
    first_layer = config.locator(".json-number:text-is('64')")
    assert not first_layer.is_visible()  # two levels open; deeper ones closed

    layers.focus()
    tab.keyboard.press("Enter")

    first_layer.wait_for()
    weights = tab.locator("#artifacts .artifact:has(h4:text-is('weights'))").inner_text()
    assert "2 \u00d7 3 (6 values)" in weights and "float64" in weights
    image = tab.locator("#artifacts img.preview-image")
    image.wait_for()
    tab.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [40, 30]
    loss = tab.locator("#artifacts .artifact:has(h4:text-is('loss'))")
    loss.get_by_role("button", name="Show preview").click()
    loss.locator("canvas").first.wait_for()
    assert "3 points" in loss.inner_text()
    assert watched.problems == []
