"""The runs table page as a browser without JavaScript sees it, on a served stack: runs of
real processes that log metrics and params, filtered, sorted by a metric, with chosen
metric and param columns; bad values are messages on the page."""

import re

import httpx

from tests.conftest import eventually
from tests.integration.conftest import submit, wait_run
from tests.integration.sdk_stack import TOKEN, SdkStack, sdk_stack_fixture  # noqa: F401
from tests.integration.test_ui_pages import browser, log_in  # noqa: F401

WAIT_S = 30
COLUMNS = "columns=metric.accuracy,param.lr"


def run_ids(page: str) -> list[str]:
    return re.findall(r'<tr data-run="([0-9a-f]+)">', page)


def cells(page: str, column: str) -> list[str]:
    return re.findall(rf'data-column="{re.escape(column)}">([^<]*)<', page)


async def logging(stack: SdkStack, accuracy: float, lr: str) -> str:
    script = f"echo ::metric name=accuracy value={accuracy} step=1; echo ::param name=lr value={lr}"
    return await submit(stack.http, command=["sh", "-c", script])


async def test_runs_sorted_by_a_metric_show_it_and_a_param_in_their_columns(
    sdk_stack: SdkStack,
    browser: httpx.AsyncClient,  # noqa: F811
) -> None:
    low = await logging(sdk_stack, 0.5, "0.1")
    high = await logging(sdk_stack, 0.9, "0.01")
    quiet = await submit(sdk_stack.http, command=["sh", "-c", "echo no-metric-here"])
    for run_id in (low, high, quiet):
        await wait_run(sdk_stack.http, run_id, timeout=WAIT_S)
    await log_in(browser, TOKEN)
    url = f"/runs?sort=metric.accuracy:desc&{COLUMNS}"

    async def recorded() -> str | None:
        page = (await browser.get(url)).text
        metrics_in = cells(page, "metric.accuracy")[:2] == ["0.9", "0.5"]
        return page if metrics_in and cells(page, "param.lr")[:2] == ["0.01", "0.1"] else None

    page = await eventually(recorded, timeout=WAIT_S)

    assert run_ids(page) == [high, low, quiet]  # the run without accuracy last
    assert cells(page, "metric.accuracy") == ["0.9", "0.5", ""]
    assert cells(page, "param.lr") == ["0.01", "0.1", ""]
    assert 'aria-sort="descending"' in page
    assert "sort=metric.accuracy%3Aasc" in page  # its header turns the order round
    ascending = (await browser.get(f"/runs?sort=metric.accuracy:asc&{COLUMNS}")).text
    assert run_ids(ascending) == [low, high, quiet]


async def test_free_text_and_state_filters_and_the_live_fragment(
    sdk_stack: SdkStack,
    browser: httpx.AsyncClient,  # noqa: F811
) -> None:
    hello = await submit(sdk_stack.http, command=["sh", "-c", "echo hello-words"])
    failed = await submit(sdk_stack.http, command=["sh", "-c", "exit 3"])
    for run_id in (hello, failed):
        await wait_run(sdk_stack.http, run_id, timeout=WAIT_S)
    await log_in(browser, TOKEN)

    found = (await browser.get("/runs?q=HELLO-words")).text
    by_id = (await browser.get(f"/runs?q={failed[:8]}")).text
    fragment = (await browser.get("/runs?fragment=true&state=failed&sort=duration")).text

    assert run_ids(found) == [hello]
    assert 'value="HELLO-words"' in found  # the form shows what the URL asks
    assert run_ids(by_id) == [failed]
    assert run_ids(fragment) == [failed] and "runs-filters" not in fragment  # the table alone


async def test_a_bad_value_is_a_message_on_the_page_not_an_error(
    browser: httpx.AsyncClient,  # noqa: F811
) -> None:
    await log_in(browser, TOKEN)
    for query, message in [
        ("sort=colour", "sort &#39;colour&#39; is not a column to sort by"),
        ("dataset=iris@x", "dataset &#39;iris@x&#39; is not NAME or NAME@VERSION"),
        ("since=soon", "since &#39;soon&#39; is not a date or time"),
        ("columns=accuracy", "column &#39;accuracy&#39; is not metric.NAME or param.NAME"),
        ("after=zzz", "after is not a page of this list"),
    ]:
        answer = await browser.get(f"/runs?{query}")
        assert answer.status_code == 200, query
        assert f'<p class="problem" role="alert">{message}' in answer.text, query
