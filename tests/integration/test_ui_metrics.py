"""Metric charts' data and the compare page: a series thinned in the database keeping its
shape (both databases), the route's bounds and 404s, a run's own token reading its own."""

import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from shared.run_token import run_token
from tests.conftest import eventually
from tests.integration.conftest import Stack, submit, wait_run
from tests.integration.sdk_stack import SECRET, TOKEN, SdkStack, sdk_stack_fixture  # noqa: F401

POINTS = 5_000
SPIKE, DIP = 3_333, 1_234
AT = 1.8e9  # 2027-01-15T08:00:00Z


def curve(name: str, count: int) -> list[dict[str, Any]]:
    """A falling curve with one spike up and one dip down, a point every 10 ms."""

    def value(i: int) -> float:
        return 1 / (i + 1) + (5.0 if i == SPIKE else -5.0 if i == DIP else 0.0)

    return [
        {"id": f"{name}-{i}", "name": name, "value": value(i), "step": i, "at": AT + i / 100}
        for i in range(count)
    ]


async def logged(http: httpx.AsyncClient, run_id: str, *points: dict[str, Any]) -> None:
    answer = await http.post(f"/v1/sdk/runs/{run_id}/metrics", json={"points": list(points)})
    assert answer.status_code == 200, answer.text

    async def stored() -> bool:
        summary = (await http.get(f"/v1/runs/{run_id}")).json()["metrics"]
        return sum(m["count"] for m in summary.values()) == len(points)

    await eventually(stored, timeout=20)


async def finished_run(http: httpx.AsyncClient) -> str:
    run_id = await submit(http, command=["true"])
    await wait_run(http, run_id)
    return run_id


async def test_a_long_series_is_thinned_keeping_its_ends_and_its_spikes(stack: Stack) -> None:
    run_id = await finished_run(stack.http)
    await logged(stack.http, run_id, *curve("train/loss", POINTS), *curve("acc", 3))
    route = f"/v1/runs/{run_id}/metrics/train/loss/series"

    by_step = (await stack.http.get(route, params={"points": 100})).json()
    by_time = (await stack.http.get(route, params={"points": 100, "x": "time"})).json()
    short = (await stack.http.get(f"/v1/runs/{run_id}/metrics/acc/series")).json()

    for series in (by_step, by_time):
        steps = [p["step"] for p in series["points"]]
        assert (series["name"], series["count"]) == ("train/loss", POINTS)
        assert 50 <= len(steps) <= 100
        assert steps == sorted(steps) and len(set(steps)) == len(steps)
        assert steps[0] == 0 and steps[-1] == POINTS - 1
        assert SPIKE in steps and DIP in steps
    assert by_time["x"] == "time" and by_time["points"][0]["at"] == "2027-01-15T08:00:00Z"
    assert [p["step"] for p in short["points"]] == [0, 1, 2] and short["count"] == 3


async def test_the_series_route_bounds_its_params_and_names_what_is_missing(
    stack: Stack,
) -> None:
    run_id = await finished_run(stack.http)
    await logged(stack.http, run_id, *curve("loss", 3))
    route = f"/v1/runs/{run_id}/metrics/loss/series"

    few = await stack.http.get(route, params={"points": 1})
    many = await stack.http.get(route, params={"points": 10_001})
    axis = await stack.http.get(route, params={"x": "epoch"})
    no_run = await stack.http.get("/v1/runs/nope/metrics/loss/series")
    no_metric = await stack.http.get(f"/v1/runs/{run_id}/metrics/accuracy/series")

    assert (few.status_code, many.status_code, axis.status_code) == (422, 422, 422)
    assert "points" in few.text and "points" in many.text and "x" in axis.text
    assert no_run.status_code == 404 and "no run with id 'nope'" in no_run.text
    assert no_metric.status_code == 404
    assert no_metric.json()["detail"] == f"run {run_id} has no metric 'accuracy'"


async def test_a_run_token_reads_its_own_runs_series_only(sdk_stack: SdkStack) -> None:
    mine, other = [await finished_run(sdk_stack.http) for _ in range(2)]
    await logged(sdk_stack.http, mine, *curve("loss", 3))
    headers = {"Authorization": f"Bearer {run_token(SECRET, mine, int(time.time()) + 3600)}"}
    async with httpx.AsyncClient(base_url=sdk_stack.url, headers=headers) as run:
        own = await run.get(f"/v1/runs/{mine}/metrics/loss/series")
        others = await run.get(f"/v1/runs/{other}/metrics/loss/series")
    assert own.status_code == 200 and len(own.json()["points"]) == 3
    assert others.status_code == 403


def marked(lr: float, loss: float) -> list[str]:
    """A run that reports params and a metric by stdout markers."""
    lines = [
        f"::param name=lr value={lr}",
        "::param name=seed value=7",
        f"::metric name=loss value={loss} step=1",
        f"::metric name=loss value={loss / 2} step=2",
    ]
    return ["sh", "-c", "; ".join(f"echo '{line}'" for line in lines)]


@asynccontextmanager
async def signed_in(stack: SdkStack) -> AsyncIterator[httpx.AsyncClient]:
    """A client with no bearer token: only what the login cookie gives."""
    async with httpx.AsyncClient(base_url=stack.url) as browser:
        answer = await browser.post("/login", data={"token": TOKEN, "next": "/runs"})
        assert answer.status_code == 303, answer.text
        yield browser


async def reported(stack: SdkStack, lr: float, loss: float) -> str:
    run_id = await submit(stack.http, command=marked(lr, loss))
    await wait_run(stack.http, run_id)

    async def recorded() -> bool:
        run = (await stack.http.get(f"/v1/runs/{run_id}")).json()
        return run["metrics"].get("loss", {}).get("count") == 2 and bool(run["reported_params"])

    await eventually(recorded, timeout=20)
    return run_id


async def test_a_run_page_has_a_chart_per_metric_with_its_summary(sdk_stack: SdkStack) -> None:
    run_id = await reported(sdk_stack, 0.1, 0.8)
    async with signed_in(sdk_stack) as browser:
        page = (await browser.get(f"/runs/{run_id}")).text
    chart = re.search(r'<figure class="metric-chart" data-metric="loss"[^>]*>', page)
    assert chart and f'data-runs="{run_id}"' in chart.group(0)
    assert 'data-stepped="yes"' in chart.group(0)
    assert "last 0.4 (step 2)," in page and "min 0.4, max 0.8, 2 points" in page
    assert 'src="/static/metrics.js"' in page
    assert f'<input type="hidden" name="runs" value="{run_id}">' in page  # Compare with…


async def test_compare_shows_params_side_by_side_marking_the_ones_that_differ(
    sdk_stack: SdkStack,
) -> None:
    first = await reported(sdk_stack, 0.1, 0.8)
    second = await reported(sdk_stack, 0.01, 0.6)
    async with signed_in(sdk_stack) as browser:
        answer = await browser.get(f"/compare?runs={first}&runs={second}")
    page = answer.text

    assert answer.status_code == 200
    lr = re.search(r'<tr class="differs">\s*<th scope="row">lr <span[^>]*>\(differs\)</span>', page)
    assert lr, page
    assert "<td>0.1</td><td>0.01</td>" in page
    assert '<th scope="row">seed</th>' in page and "<td>7</td><td>7</td>" in page
    assert f'data-runs="{first},{second}"' in page  # one chart, a line each
    assert f'<a href="/runs/{first}">' in page and f'<a href="/runs/{second}">' in page
    assert "<td>0.4</td><td>0.4</td><td>0.8</td><td>2</td>" in page  # last, min, max, points


async def test_compare_says_what_is_wrong_with_the_runs_it_is_given(sdk_stack: SdkStack) -> None:
    run_id = await finished_run(sdk_stack.http)
    async with signed_in(sdk_stack) as browser:
        one = await browser.get(f"/compare?runs={run_id}")
        eleven = await browser.get("/compare", params={"runs": ",".join("abcdefghijk")})
        unknown = await browser.get(f"/compare?runs={run_id},nope,gone")
        picking = await browser.get("/compare")
        runs = (await browser.get("/runs")).text

    assert one.status_code == 200 and "compare needs at least 2 runs" in one.text
    assert "at most 10 runs at once: 11 were given" in eleven.text
    assert unknown.status_code == 404 and "text/html" in unknown.headers["content-type"]
    assert "no run with id &#39;nope&#39;, &#39;gone&#39;" in unknown.text
    assert f'name="runs" value="{run_id}"' in picking.text  # recent runs to pick from
    assert f'name="runs" value="{run_id}" form="compare-runs"' in runs
