"""The pipelines and components pages in a real browser on the quickstart's stack: a
pipeline run's steps as a graph (a node per step with its state's word, linking to its
run, the edges between them), a step's state change shown live, the specs' pages with
their highlighted YAML and a pipeline's graph; no console error, no failed request."""

import time
from typing import TYPE_CHECKING

from shared.queries import RunView
from tests.e2e.browser import Stack, Watched

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

GATED = 'command: [sh, -c, "until [ -e gate ]; do sleep 0.05; done"]\n'
PIPELINE = """
kind: pipeline
name: ui-gated
steps:
  first: {component: ui-gate-first}
  second: {component: ui-gate-second, after: [first]}
"""


def register(stack: Stack, kind: str, text: str) -> None:
    answer = stack.client.request(
        "POST", f"/v1/{kind}", content=text, headers={"content-type": "application/yaml"}
    )
    assert answer.status_code in (200, 201), answer.text


def an_iris_train_run(stack: Stack) -> RunView:
    runs = stack.client.runs(pipeline="iris-train", state="completed", limit=50)
    found = next(run for run in runs if run.kind == "pipeline")
    run = stack.client.run(found.id)
    assert run is not None
    return run


def settled(tab: "Page") -> None:
    """The steps drawn, and no fetch of them in flight."""
    tab.locator("#pipeline-steps[aria-busy='false'] svg.graph").wait_for()


def label(node: "Locator") -> str | None:
    return node.locator("text").text_content()


def step_running(stack: Stack, run_id: str, step: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        run = stack.client.run(run_id)
        if run and any(s.step == step and s.state == "running" for s in run.steps):
            return
        time.sleep(0.05)
    raise AssertionError(f"step {step} of {run_id} did not start")


def test_a_pipeline_runs_page_draws_its_steps_linked_to_their_runs(
    ui_stack: Stack, page: tuple["Page", Watched]
) -> None:
    tab, watched = page
    run = an_iris_train_run(ui_stack)

    tab.goto(f"/runs/{run.id}")
    settled(tab)
    graph = tab.locator("#pipeline-steps svg.graph")

    assert graph.locator("g.node").count() == len(run.steps) == 3
    assert graph.locator("polyline.edge").count() == 3  # prepare → train → evaluate, and →
    for step in run.steps:
        node = graph.locator(f"a[href='/runs/{step.run_id}'] g[data-node='{step.step}']")
        assert label(node) == f"{step.step}: completed"
        assert "state-completed" in (node.get_attribute("class") or "")
    graph.locator("g[data-node='train']").click()
    tab.wait_for_url(f"**/runs/{run.id}-train")
    assert watched.problems == []


def test_a_steps_state_change_appears_without_a_reload(
    ui_stack: Stack, page: tuple["Page", Watched]
) -> None:
    tab, watched = page
    register(ui_stack, "components", f"kind: component\nname: ui-gate-first\n{GATED}")
    register(ui_stack, "components", f"kind: component\nname: ui-gate-second\n{GATED}")
    register(ui_stack, "pipelines", PIPELINE)
    run_id = ui_stack.client.submit(pipeline="ui-gated").id
    try:
        step_running(ui_stack, run_id, "first")
        tab.goto(f"/runs/{run_id}")
        first = tab.locator("#pipeline-steps g[data-node='first']")
        second = tab.locator("#pipeline-steps g[data-node='second']")
        first.and_(tab.locator(".state-running")).wait_for()
        assert (label(first), label(second)) == ("first: running", "second: waiting")
        tab.evaluate("window.notReloaded = true")

        ui_stack.gate(f"{run_id}-first").touch()

        second.and_(tab.locator(".state-running")).wait_for()
        assert (label(first), label(second)) == ("first: completed", "second: running")
        assert "state-completed" in (first.get_attribute("class") or "")
        assert tab.locator(f"a[href='/runs/{run_id}-second'] g[data-node='second']").count() == 1
        assert tab.evaluate("window.notReloaded") is True
        settled(tab)
        assert watched.problems == []
    finally:
        ui_stack.client.abort(run_id)


def test_the_spec_pages_show_highlighted_specs_and_a_pipelines_graph(
    ui_stack: Stack, page: tuple["Page", Watched]
) -> None:
    tab, watched = page
    tab.goto("/pipelines")
    tab.click("a[href='/pipelines/iris-train']")
    tab.wait_for_url("**/pipelines/iris-train")
    graph = tab.locator("svg.graph")
    graph.wait_for()
    assert graph.locator("g.node").count() == 3
    assert tab.locator(".highlight .nt", has_text="steps").count() == 1

    graph.locator("g[data-node='train']").click()
    tab.wait_for_url("**/components/train?version=1")
    assert "train.py" in tab.inner_text(".highlight")
    tab.goto("/components")
    assert tab.locator("a[href='/components/evaluate']").count() == 1
    assert watched.problems == []


def test_an_unknown_pipeline_is_a_404_page(page: tuple["Page", Watched]) -> None:
    tab, _ = page
    answer = tab.goto("/pipelines/nope")
    assert answer is not None and answer.status == 404
    assert "no pipeline version 'nope'" in tab.inner_text("main")
