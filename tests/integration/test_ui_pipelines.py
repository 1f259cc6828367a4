"""The pipelines pages against a real registry, scheduler, executor and gateway, as a
browser without JavaScript sees them: a pipeline run's steps with their states, links and
edges (cached steps marked), and 404 pages for what is not there."""

import html
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Stack, start_stack, stop_stack, submit, wait_run

FRAGMENT = {"HX-Request": "true"}


@pytest.fixture
async def stack(nats_url: str, db: tuple[str, str], tmp_path: Path) -> AsyncIterator[Stack]:
    running = await start_stack(nats_url, db, tmp_path / "home", services=("registry",))
    yield running
    await stop_stack(running)


async def register(stack: Stack, text: str, kind: str = "components") -> None:
    response = await stack.http.post(
        f"/v1/{kind}", content=text, headers={"content-type": "application/yaml"}
    )
    assert response.status_code in (200, 201), response.text


def component(name: str, command: str, extra: str = "") -> str:
    return f"kind: component\nname: {name}\ncommand: [sh, -c, '{command}']\n{extra}"


FLOW = """
kind: pipeline
name: flow
description: Two steps, the second after the first.
steps:
  first: {component: quick}
  second: {component: kept, after: [first]}
"""


async def flow_ran_twice(stack: Stack) -> tuple[dict[str, Any], dict[str, Any]]:
    """The flow run twice: its `second` step cached the second time."""
    await register(stack, component("quick", "true"))
    await register(stack, component("kept", "echo computed", "cache: true\n"))
    await register(stack, FLOW, "pipelines")
    first = await wait_run(stack.http, await submit(stack.http, pipeline="flow"))
    second = await wait_run(stack.http, await submit(stack.http, pipeline="flow"))
    assert first["state"] == second["state"] == "completed", (first, second)
    return first, second


def graph_of(page: str) -> dict[str, Any]:
    found = re.search(r"data-graph='([^']*)'", page)
    assert found, page
    return json.loads(html.unescape(found.group(1)))  # type: ignore[no-any-return]


async def test_a_pipeline_runs_page_holds_its_steps_each_with_state_link_and_edges(
    stack: Stack,
) -> None:
    _, run = await flow_ran_twice(stack)
    run_id = run["id"]

    page = (await stack.http.get(f"/runs/{run_id}")).text
    fragment = await stack.http.get(f"/runs/{run_id}/steps", headers=FRAGMENT)
    alone = await stack.http.get(f"/runs/{run_id}/steps")

    assert f'data-steps="/runs/{run_id}/steps"' in page
    assert fragment.status_code == 200 and "<html" not in fragment.text
    graph = graph_of(fragment.text)
    nodes = {node["id"]: node for node in graph["nodes"]}
    assert nodes["first"]["label"] == "first: completed"
    assert nodes["first"]["href"] == f"/runs/{run_id}-first"
    assert nodes["second"]["label"] == "second: completed (cached)"
    assert "cached" in nodes["second"]["cls"].split()
    assert graph["edges"] == [{"from": "first", "to": "second"}]
    assert f'href="/runs/{run_id}-second"' in fragment.text
    assert '<span class="mark mark-cached">cached</span>' in fragment.text
    assert alone.status_code == 200 and "<html" in alone.text and "data-graph=" in alone.text


async def test_steps_of_a_run_that_is_no_pipeline_or_of_no_run_are_404_pages(
    stack: Stack,
) -> None:
    run_id = await submit(stack.http, command=["true"])
    await wait_run(stack.http, run_id)

    command_run = await stack.http.get(f"/runs/{run_id}/steps")
    no_run = await stack.http.get("/runs/nope/steps", headers=FRAGMENT)
    page = (await stack.http.get(f"/runs/{run_id}")).text

    assert command_run.status_code == 404 and "is not a pipeline run" in command_run.text
    assert no_run.status_code == 404 and "no run with id &#39;nope&#39;" in no_run.text
    assert "data-steps=" not in page
