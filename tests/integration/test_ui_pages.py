"""The web UI's pages against a served gateway, scheduler and executor, as a browser
without JavaScript sees them: the login cookie, the runs table and its filters, a run's
page with its abort button for a token allowed to run, CSRF on every form, 404 pages."""

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from services.gateway.ui.render import NAV
from tests.integration.conftest import submit, wait_run
from tests.integration.sdk_stack import TOKEN, SdkStack, sdk_stack_fixture  # noqa: F401

WAIT_S = 30


@pytest.fixture
async def browser(sdk_stack: SdkStack) -> AsyncIterator[httpx.AsyncClient]:
    """A client with no bearer token: only what the login cookie gives."""
    async with httpx.AsyncClient(base_url=sdk_stack.url) as client:
        yield client


async def log_in(browser: httpx.AsyncClient, token: str) -> None:
    answer = await browser.post("/login", data={"token": token, "next": "/runs"})
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/runs"


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found, page
    return found.group(1)


async def read_token(stack: SdkStack) -> str:
    answer = await stack.http.post("/v1/tokens", json={"name": "reader", "scopes": ["read"]})
    assert answer.status_code == 201, answer.text
    return answer.json()["token"]  # type: ignore[no-any-return]


async def test_a_login_sets_an_httponly_strict_cookie_and_a_wrong_token_is_refused(
    browser: httpx.AsyncClient,
) -> None:
    assert "/logout" not in (await browser.get("/login")).text
    first = await browser.get("/runs")
    assert (first.status_code, first.headers["location"]) == (303, "/login?next=/runs")
    wrong = await browser.post("/login", data={"token": "nope"})
    assert wrong.status_code == 401 and "unknown, revoked or expired token" in wrong.text

    answer = await browser.post("/login", data={"token": TOKEN, "next": "//elsewhere.example"})

    assert answer.headers["location"] == "/runs"  # never off this site
    cookie = answer.headers["set-cookie"].lower()
    assert "boxops_token=" in cookie and "httponly" in cookie and "samesite=strict" in cookie


async def test_the_runs_page_shows_runs_with_their_state_as_text_and_filters(
    sdk_stack: SdkStack, browser: httpx.AsyncClient
) -> None:
    done = await submit(sdk_stack.http, command=["sh", "-c", "echo hi"])
    failed = await submit(sdk_stack.http, command=["sh", "-c", "exit 3"])
    for run_id in (done, failed):
        await wait_run(sdk_stack.http, run_id, timeout=WAIT_S)
    await log_in(browser, TOKEN)

    page = (await browser.get("/runs")).text
    only_failed = (await browser.get("/runs?state=failed")).text
    bad = await browser.get("/runs?state=bogus")

    assert f'href="/runs/{done}"' in page and f'href="/runs/{failed}"' in page
    assert 'class="state state-completed">completed<' in page
    assert f'href="/runs/{failed}"' in only_failed and f'href="/runs/{done}"' not in only_failed
    assert bad.status_code == 200
    assert "state &#39;bogus&#39; is not a run state" in bad.text


async def test_an_unknown_run_is_a_404_page(browser: httpx.AsyncClient) -> None:
    await log_in(browser, TOKEN)
    answer = await browser.get("/runs/nope")
    assert answer.status_code == 404
    assert "text/html" in answer.headers["content-type"]
    assert "no run with id &#39;nope&#39;" in answer.text


async def test_abort_from_the_page_needs_the_csrf_token_and_stops_the_run(
    sdk_stack: SdkStack, browser: httpx.AsyncClient
) -> None:
    run_id = await submit(sdk_stack.http, command=["sleep", "60"])
    await wait_run(sdk_stack.http, run_id, states=("running",), timeout=WAIT_S)
    await log_in(browser, TOKEN)
    page = (await browser.get(f"/runs/{run_id}")).text
    assert f'action="/runs/{run_id}/abort"' in page

    forged = await browser.post(f"/runs/{run_id}/abort", data={"csrf": "0" * 64})
    assert forged.status_code == 403, forged.text
    assert (await wait_run(sdk_stack.http, run_id, states=("running",)))["state"] == "running"
    answer = await browser.post(f"/runs/{run_id}/abort", data={"csrf": csrf_of(page)})

    assert (answer.status_code, answer.headers["location"]) == (303, f"/runs/{run_id}")
    run = await wait_run(sdk_stack.http, run_id, timeout=WAIT_S)
    assert run["state"] == "aborted"


async def test_a_read_only_token_sees_no_buttons_and_is_refused_403(
    sdk_stack: SdkStack, browser: httpx.AsyncClient
) -> None:
    run_id = await submit(sdk_stack.http, command=["sleep", "60"])
    await wait_run(sdk_stack.http, run_id, states=("running",), timeout=WAIT_S)
    await log_in(browser, await read_token(sdk_stack))

    page = (await browser.get(f"/runs/{run_id}")).text
    answer = await browser.post(f"/runs/{run_id}/abort", data={"csrf": csrf_of(page)})

    assert "/abort" not in page and "/retry" not in page
    assert answer.status_code == 403 and "needs scope run" in answer.text
    assert "text/html" in answer.headers["content-type"]
    assert (await sdk_stack.http.get(f"/v1/runs/{run_id}")).json()["state"] == "running"
    await sdk_stack.http.post(f"/v1/runs/{run_id}/abort")


async def test_the_cookie_opens_reads_of_v1_and_never_a_change(
    sdk_stack: SdkStack, browser: httpx.AsyncClient
) -> None:
    await log_in(browser, TOKEN)
    assert (await browser.get("/v1/runs")).status_code == 200
    refused = await browser.post("/v1/runs", json={"command": ["true"]})
    assert refused.status_code == 401, refused.text


async def test_no_page_loads_anything_from_the_internet(
    sdk_stack: SdkStack, browser: httpx.AsyncClient, tmp_path: Path
) -> None:
    run_id = await submit(sdk_stack.http, command=["true"])
    await wait_run(sdk_stack.http, run_id, timeout=WAIT_S)
    # Every page of the header, a run's page and a 404 page.
    pages = ["/login", *(path for _, path in NAV), f"/runs/{run_id}", "/runs/nope"]
    await log_in(browser, TOKEN)
    for path in pages:
        page = (await browser.get(path)).text
        assets = re.findall(r'(?:src|href)="([^"]+)"', page)
        assert assets, path
        assert [a for a in assets if re.match(r"(https?:)?//", a)] == [], path
        for asset in assets:
            if asset.startswith("/static/"):
                assert (await browser.get(asset)).status_code == 200, asset


async def test_a_login_link_signs_a_browser_in_once(
    sdk_stack: SdkStack, browser: httpx.AsyncClient
) -> None:
    made = await sdk_stack.http.post("/v1/ui/login-links", json={"next": "/runs?state=failed"})
    assert made.status_code == 201, made.text
    link = made.json()["path"]
    assert link.startswith("/login/link/") and TOKEN not in link

    used = await browser.get(link)

    assert (used.status_code, used.headers["location"]) == (303, "/runs?state=failed")
    assert (await browser.get("/runs")).status_code == 200  # signed in by the cookie
    again = await httpx.AsyncClient(base_url=sdk_stack.url).get(link)
    assert again.status_code == 410 and "used already or has expired" in again.text


async def test_a_login_link_signs_in_with_the_scopes_of_the_token_that_asked(
    sdk_stack: SdkStack, browser: httpx.AsyncClient
) -> None:
    reader = await read_token(sdk_stack)
    headers = {"Authorization": f"Bearer {reader}"}
    made = await sdk_stack.http.post("/v1/ui/login-links", json={}, headers=headers)
    off_site = await sdk_stack.http.post("/v1/ui/login-links", json={"next": "//elsewhere.example"})
    assert off_site.status_code == 422

    await browser.get(made.json()["path"])
    run_id = await submit(sdk_stack.http, command=["sleep", "30"])
    page = await browser.get(f"/runs/{run_id}")

    assert page.status_code == 200 and "Abort" not in page.text  # a reader's page
    abort = await browser.post(f"/runs/{run_id}/abort", data={"csrf": csrf_of(page.text)})
    assert abort.status_code == 403
    await sdk_stack.http.post(f"/v1/runs/{run_id}/abort")


async def test_a_page_whose_service_does_not_answer_is_a_page_saying_so(
    browser: httpx.AsyncClient,
) -> None:
    await log_in(browser, TOKEN)

    page = await browser.get("/pipelines")  # this stack runs no registry

    assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
    assert "Unavailable" in page.text and "/logout" in page.text
    api = await browser.get("/v1/pipelines")
    assert api.headers["content-type"] == "application/json"  # the API still answers JSON


async def test_a_page_seen_without_a_login_carries_no_csrf_token(
    browser: httpx.AsyncClient,
) -> None:
    # An error page renders for anyone: it must not hold the admin token's CSRF token
    # (once taken from the gateway's own token when no cookie came).
    page = await browser.get("/no-such-page")

    assert page.status_code == 404 and "/logout" not in page.text
    assert re.search(r'name="csrf" value="[0-9a-f]+"', page.text) is None
    await log_in(browser, TOKEN)
    refused = await browser.post("/logout", data={"csrf": ""})
    assert refused.status_code == 403  # an empty token never matches
