"""Metric charts in a real browser on the quickstart's runs: a chart per metric on a run's
page, by step or by time; the compare page with both runs' params and overlaid curves,
reached from the runs table's checkboxes."""

import time
from typing import TYPE_CHECKING

from tests.e2e.browser import Stack, Watched, running

if TYPE_CHECKING:
    from playwright.sync_api import Page


def step_runs(stack: Stack, step: str) -> list[str]:
    """The quickstart's pipeline runs' `step` runs, oldest first."""
    found = [run for run in stack.client.runs(limit=500) if run.step == step]
    return [run.id for run in sorted(found, key=lambda run: run.created_at)]


def test_a_run_page_has_a_chart_per_metric_with_its_name(
    ui_stack: Stack, page: tuple["Page", Watched]
) -> None:
    tab, watched = page
    evaluate = step_runs(ui_stack, "evaluate")[0]
    tab.goto(f"/runs/{evaluate}")

    for name in ("accuracy", "f1"):
        chart = tab.locator(f"figure.metric-chart[data-metric='{name}']")
        chart.locator(".uplot canvas").wait_for()
        assert name in chart.locator("figcaption").inner_text()
        assert "max" in chart.locator(".metric-summary").inner_text()
    assert watched.problems == []


def test_a_stepped_metric_is_charted_by_step_or_by_time(
    ui_stack: Stack, page: tuple["Page", Watched]
) -> None:
    tab, watched = page
    run_id = ui_stack.client.submit(command=["true"]).id
    ui_stack.client.wait(run_id, timeout=60)
    points = [{"id": f"p{i}", "name": "loss", "value": 1 / i, "step": i} for i in range(1, 80)]
    ui_stack.client.request("POST", f"/v1/sdk/runs/{run_id}/metrics", json={"points": points})
    deadline = time.monotonic() + 30
    while ui_stack.client.metrics(run_id).summary.get("loss") is None:
        assert time.monotonic() < deadline, "the points were not stored within 30 s"
        time.sleep(0.05)
    tab.goto(f"/runs/{run_id}")
    chart = tab.locator("figure.metric-chart[data-metric='loss']")
    tab.wait_for_selector("figure.metric-chart[data-metric='loss'][data-drawn='step']")

    tab.check("input[name=metric-axis][value=time]")

    tab.wait_for_selector("figure.metric-chart[data-metric='loss'][data-drawn='time']")
    assert chart.locator(".uplot canvas").count() == 1
    assert watched.problems == []


def log_points(stack: Stack, run_id: str, name: str, steps: range) -> None:
    points = [{"id": f"{name}{i}", "name": name, "value": 1 / i, "step": i} for i in steps]
    answer = stack.client.request("POST", f"/v1/sdk/runs/{run_id}/metrics", json={"points": points})
    assert answer.status_code < 300, answer.text


def test_a_running_runs_charts_show_new_points_without_a_reload(
    ui_stack: Stack, page: tuple["Page", Watched]
) -> None:
    tab, watched = page
    run_id = running(ui_stack, "until [ -e gate ]; do sleep 0.05; done")
    tab.goto(f"/runs/{run_id}")
    tab.wait_for_selector("#metrics .no-metrics")

    log_points(ui_stack, run_id, "loss", range(1, 6))
    chart = "figure.metric-chart[data-metric='loss']"
    tab.wait_for_selector(f"{chart}[data-points='5'] .uplot canvas")  # a new chart
    log_points(ui_stack, run_id, "loss", range(6, 11))
    tab.wait_for_selector(f"{chart}[data-points='10']")

    assert "10 points" in tab.locator(f"{chart} .metric-summary").inner_text()
    assert tab.locator("#metrics .no-metrics").count() == 0
    ui_stack.gate(run_id).touch()
    ui_stack.client.wait(run_id, timeout=60)
    tab.wait_for_selector("#metrics:not([data-live])")  # reloaded once ended: not live
    assert watched.problems == []


def test_compare_shows_both_runs_params_and_overlaid_curves(
    ui_stack: Stack, page: tuple["Page", Watched]
) -> None:
    tab, watched = page
    first, second = step_runs(ui_stack, "train")[:2]
    # The table refreshes itself once its live stream opens: leaving before that answer
    # came would cut it.
    with tab.expect_response(lambda answer: "fragment=true" in answer.url):
        tab.goto("/runs")
    for run_id in (first, second):
        tab.check(f"input[name=runs][value='{run_id}']")
    tab.click("text=Compare selected")
    tab.wait_for_url("**/compare?**")

    params = tab.locator("table.params")
    assert first[:12] in params.inner_text() and second[:12] in params.inner_text()
    depth = params.locator("tr", has_text="max_depth").locator("td")
    assert depth.all_inner_texts() == ["3", "3"]
    legend = tab.locator("figure.metric-chart[data-metric='train_accuracy'] .u-legend")
    legend.wait_for()
    labels = legend.inner_text()
    assert first[:12] in labels and second[:12] in labels
    assert watched.problems == []
