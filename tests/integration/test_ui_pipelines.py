"""The pipelines and components pages against a real registry, scheduler, executor and
gateway, as a browser without JavaScript sees them: a pipeline run's steps with their
states, links and edges (cached steps marked), the specs' lists and pages with the
highlighted spec, its versions and runs, and 404 pages for what is not there."""

import html
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Stack, start_stack, stop_stack, submit, wait_run
from tests.integration.sdk_stack import SdkStack, sdk_stack_fixture  # noqa: F401

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


async def test_a_refused_pipeline_run_says_no_step_ran_and_why(stack: Stack) -> None:
    answer = await stack.http.post("/v1/runs", json={"pipeline": "nope"})
    assert answer.status_code == 422, answer.text
    run = await wait_run(stack.http, answer.json()["id"])

    steps = await stack.http.get(f"/runs/{run['id']}/steps", headers=FRAGMENT)

    assert steps.status_code == 200
    assert graph_of(steps.text) == {"nodes": [], "edges": [], "direction": "LR"}
    assert f"No steps ran: {run['reason']}" in html.unescape(steps.text)


async def test_the_lists_show_each_spec_at_its_latest_version(stack: Stack) -> None:
    await flow_ran_twice(stack)
    await register(stack, component("quick", "echo again"))

    components = (await stack.http.get("/components")).text
    pipelines = (await stack.http.get("/pipelines")).text

    row = re.search(r'<tr data-name="quick">(.*?)</tr>', components, re.S)
    assert row and "<td>2</td>" in row.group(1), components
    assert 'href="/components/kept"' in components
    assert 'href="/pipelines/flow"' in pipelines and "Two steps, the second after" in pipelines
    bad = await stack.http.get("/components?offset=-3")
    assert bad.status_code == 200 and "offset &#39;-3&#39; is not a number" in bad.text


async def test_a_spec_page_highlights_the_spec_and_selects_a_version(stack: Stack) -> None:
    await flow_ran_twice(stack)
    await register(stack, component("quick", "echo again"))

    latest = (await stack.http.get("/components/quick")).text
    first = (await stack.http.get("/components/quick?version=1")).text

    assert "version 2" in latest and "echo again" in latest
    assert '<div class="highlight"><pre>' in latest and '<span class="nt">command</span>' in latest
    assert "version 1" in first and "echo again" not in first
    assert 'href="/components/quick?version=1" aria-current="page"' in first
    assert 'href="/components/quick?version=2"' in first
    assert 'href="/runs?component=quick"' in first


async def test_a_pipeline_page_shows_its_dag_and_its_recent_runs(stack: Stack) -> None:
    first, second = await flow_ran_twice(stack)

    page = (await stack.http.get("/pipelines/flow")).text

    graph = graph_of(page)
    assert [n["label"] for n in graph["nodes"]] == ["first: quick@1", "second: kept@1"]
    assert graph["nodes"][1]["href"] == "/components/kept?version=1"
    assert graph["edges"] == [{"from": "first", "to": "second"}]
    assert f'href="/runs/{first["id"]}"' in page and f'href="/runs/{second["id"]}"' in page
    assert f'href="/runs/{first["id"]}-first"' not in page  # the pipeline's runs, not steps'
    assert 'href="/runs?pipeline=flow"' in page


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("/components/nope", "no component version &#39;nope&#39;"),
        ("/pipelines/flow?version=9", "no pipeline version &#39;flow@9&#39;"),
        ("/pipelines/flow?version=latest", "version &#39;latest&#39; of pipeline"),
        ("/components/a%20b", "component name &#39;a b&#39;"),
    ],
)
async def test_an_unknown_spec_or_version_is_a_404_page(stack: Stack, path: str, why: str) -> None:
    await register(stack, component("quick", "true"))
    await register(stack, component("kept", "true"))
    await register(stack, FLOW, "pipelines")

    answer = await stack.http.get(path)

    assert answer.status_code == 404 and "text/html" in answer.headers["content-type"]
    assert why in answer.text, answer.text


async def test_the_pages_load_nothing_from_the_internet_and_their_assets_are_served(
    stack: Stack,
) -> None:
    _, run = await flow_ran_twice(stack)
    pages = ["/pipelines", "/components", "/pipelines/flow", "/components/kept"]
    pages += [f"/runs/{run['id']}", f"/runs/{run['id']}/steps"]
    for path in pages:
        page = (await stack.http.get(path)).text
        assets = re.findall(r'(?:src|href)="([^"]+)"', page)
        assert [a for a in assets if re.match(r"(https?:)?//", a)] == [], path
        for asset in (a for a in assets if a.startswith("/static/")):
            served = await stack.http.get(asset)
            assert served.status_code == 200, asset
            assert not re.search(r"url\(\s*['\"]?(https?:)?//", served.text), asset


async def test_the_pages_ask_for_a_login_first(sdk_stack: SdkStack) -> None:
    async with httpx.AsyncClient(base_url=sdk_stack.url) as browser:
        for path in ("/pipelines", "/components/c", "/runs/r/steps"):
            answer = await browser.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["location"] == f"/login?next={path}"
