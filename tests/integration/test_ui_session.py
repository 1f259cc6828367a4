"""A page's login ending while it is open: a fragment htmx asks for (the live refreshes)
sends the whole page to the login page and back, never the login form into the fragment's
place; a page asked for plainly is redirected to the login page as before."""

from urllib.parse import parse_qs, urlsplit

from tests.integration.ui_automation_stack import (  # noqa: F401
    UiStack,
    sqlite_db,
    ui_stack_fixture,
)

PAGE = "http://ui/runs?state=failed&q=a%20b"
FRAGMENT = {"HX-Request": "true", "HX-Current-URL": PAGE}


def _back_to(location: str) -> str:
    """The page a login URL comes back to."""
    parts = urlsplit(location)
    assert parts.path == "/login", location
    return parse_qs(parts.query)["next"][0]


async def test_a_fragment_without_a_login_sends_the_whole_page_to_the_login_page(
    ui_stack: UiStack,
) -> None:
    async with ui_stack.browser() as browser:
        answer = await browser.get("/runs?fragment=true&state=failed", headers=FRAGMENT)

    assert answer.status_code == 401
    assert _back_to(answer.headers["hx-redirect"]) == "/runs?state=failed&q=a%20b"
    assert 'action="/login"' not in answer.text  # nothing to swap into the fragment


async def test_an_expired_login_on_a_fragment_sends_the_page_to_the_login_page(
    ui_stack: UiStack,
) -> None:
    async with ui_stack.browser() as browser:
        browser.cookies.set("boxops_token", "revoked-or-expired")
        steps = await browser.get("/runs/r1/steps", headers=FRAGMENT)
        outside = await browser.get(
            "/runs?fragment=true",
            headers={**FRAGMENT, "HX-Current-URL": "http://ui//elsewhere.example"},
        )

    assert steps.status_code == 401 and "location" not in steps.headers
    assert _back_to(steps.headers["hx-redirect"]) == "/runs?state=failed&q=a%20b"
    assert _back_to(outside.headers["hx-redirect"]) == "/runs"  # never off this site


async def test_a_page_without_a_login_is_still_redirected_to_the_login_page(
    ui_stack: UiStack,
) -> None:
    async with ui_stack.browser() as browser:
        plain = await browser.get("/triggers")
        asked = await browser.get("/runs?state=failed")
        followed = await browser.get("/monitors", follow_redirects=True)

    assert (plain.status_code, plain.headers["location"]) == (303, "/login?next=/triggers")
    assert asked.status_code == 303 and _back_to(asked.headers["location"]) == "/runs?state=failed"
    assert "hx-redirect" not in plain.headers
    assert followed.status_code == 200 and 'action="/login"' in followed.text
    assert 'name="next" value="/monitors"' in followed.text
