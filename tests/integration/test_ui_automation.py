"""The triggers and monitors pages as a browser without JavaScript sees them, against a
real trigger service: what each watches, enable/disable with CSRF for a token allowed to
write, no button and a 403 page for a read-only token, a trigger's history with its run
links, 404 pages for unknown names."""

import json
import re
from typing import Any

import pytest

from tests.conftest import eventually
from tests.integration.test_monitors import ACCURACY, RETRAIN, log_accuracy
from tests.integration.test_triggers import apply, fired, history, publish
from tests.integration.ui_automation_stack import (  # noqa: F401
    UiStack,
    csrf_of,
    sqlite_db,
    ui_stack_fixture,
)

ON_SALES = """
kind: trigger
name: on-sales
target: {command: [echo, "{{ event.region }}"]}
event:
  subject: ext.sales.updated
  where: {region: eu}
"""

NIGHTLY = """
kind: trigger
name: nightly
target: {command: [echo, nightly]}
schedule: {cron: "0 3 * * *", timezone: Europe/Paris}
"""


@pytest.fixture
async def applied(ui_stack: UiStack) -> UiStack:
    await apply(ui_stack.stack, ON_SALES)
    await apply(ui_stack.stack, NIGHTLY)
    return ui_stack


async def test_the_triggers_list_shows_what_each_watches_and_its_state_as_a_word(
    applied: UiStack,
) -> None:
    async with applied.signed_in() as browser:
        page = (await browser.get("/triggers")).text

    assert 'href="/triggers/on-sales"' in page and 'href="/triggers/nightly"' in page
    assert "ext.sales.updated where {region: eu}" in page
    assert "schedule 0 3 * * * (Europe/Paris)" in page
    assert page.count(">enabled<") == 2
    assert 'action="/triggers/on-sales/disable"' in page
    assert page.count(">never<") == 2  # neither fired yet


async def test_a_trigger_is_disabled_and_enabled_from_the_page_with_its_csrf_token(
    applied: UiStack,
) -> None:
    async with applied.signed_in() as browser:
        page = (await browser.get("/triggers")).text
        forged = await browser.post("/triggers/on-sales/disable", data={"csrf": "0" * 64})
        assert forged.status_code == 403
        assert (await applied.api.get("/v1/triggers/on-sales")).json()["enabled"] is True

        off = await browser.post("/triggers/on-sales/disable", data={"csrf": csrf_of(page)})
        assert (off.status_code, off.headers["location"]) == (303, "/triggers")
        assert (await applied.api.get("/v1/triggers/on-sales")).json()["enabled"] is False
        after = (await browser.get("/triggers")).text
        assert ">disabled<" in after and 'action="/triggers/on-sales/enable"' in after

        on = await browser.post("/triggers/on-sales/enable", data={"csrf": csrf_of(page)})
        assert on.status_code == 303
        assert (await applied.api.get("/v1/triggers/on-sales")).json()["enabled"] is True


async def test_a_read_only_token_sees_no_switch_and_is_refused_403(applied: UiStack) -> None:
    async with applied.signed_in(await applied.read_token()) as browser:
        page = (await browser.get("/triggers")).text
        detail = (await browser.get("/triggers/on-sales")).text
        answer = await browser.post("/triggers/on-sales/disable", data={"csrf": csrf_of(page)})

    assert ">enabled<" in page and "/disable" not in page and "/disable" not in detail
    assert answer.status_code == 403 and "needs scope write" in answer.text
    assert "text/html" in answer.headers["content-type"]
    assert (await applied.api.get("/v1/triggers/on-sales")).json()["enabled"] is True


async def test_a_trigger_page_shows_its_spec_and_each_firing_with_its_event_and_run(
    applied: UiStack,
) -> None:
    event_id = await publish(applied.stack, "ext.sales.updated", {"region": "eu"})
    [firing] = await fired(applied.stack, "on-sales", 1)

    async with applied.signed_in() as browser:
        page = (await browser.get("/triggers/on-sales")).text
        listing = (await browser.get("/triggers")).text

    assert "subject: ext.sales.updated" in page  # the spec, as YAML
    assert '<span class="firing firing-fired">fired</span>' in page
    assert f"<code>{event_id}</code>" in page
    assert f'href="/runs/{firing["run_id"]}"' in page
    assert f'href="/runs/{firing["run_id"]}"' in listing  # its last firing


async def test_unknown_triggers_and_monitors_are_404_pages(applied: UiStack) -> None:
    async with applied.signed_in() as browser:
        page = (await browser.get("/triggers")).text
        missing = await browser.get("/triggers/nope")
        switched = await browser.post("/triggers/nope/enable", data={"csrf": csrf_of(page)})
        monitor = await browser.get("/monitors/nope")
        a_trigger = await browser.get("/monitors/on-sales")  # a trigger is not a monitor

    assert missing.status_code == 404 and "no trigger named &#39;nope&#39;" in missing.text
    assert switched.status_code == 404 and "no trigger named &#39;nope&#39;" in switched.text
    assert monitor.status_code == 404 and "no monitor named &#39;nope&#39;" in monitor.text
    assert a_trigger.status_code == 404


async def crossed(ui_stack: UiStack) -> list[dict[str, Any]]:
    """accuracy-floor sees 0.95, falls to 0.85 (below 0.9) and recovers to 0.93."""
    await apply(ui_stack.stack, ACCURACY, "monitors")
    for value in (0.95, 0.85, 0.93):
        await log_accuracy(ui_stack.stack, value)

    async def both() -> list[dict[str, Any]] | None:
        rows = await history(ui_stack.stack, "accuracy-floor", "monitors")
        return rows if len(rows) == 2 else None

    return await eventually(both)  # type: ignore[return-value]


async def test_a_monitors_points_are_kept_for_its_chart_oldest_first(ui_stack: UiStack) -> None:
    await crossed(ui_stack)
    points = (await ui_stack.api.get("/v1/monitors/accuracy-floor/points")).json()
    last = (await ui_stack.api.get("/v1/monitors/accuracy-floor/points?limit=1")).json()
    bad = await ui_stack.api.get("/v1/monitors/accuracy-floor/points?limit=0")

    assert [p["value"] for p in points] == [0.95, 0.85, 0.93]
    assert [p["value"] for p in last] == [0.93]
    assert bad.status_code == 422
    assert (await ui_stack.api.get("/v1/monitors/nope/points")).status_code == 404


async def test_a_monitor_page_charts_its_points_with_its_band_and_crossings(
    ui_stack: UiStack,
) -> None:
    await crossed(ui_stack)
    async with ui_stack.signed_in() as browser:
        listing = (await browser.get("/monitors")).text
        page = (await browser.get("/monitors/accuracy-floor")).text

    assert 'href="/monitors/accuracy-floor"' in listing
    assert "last accuracy below 0.9 (re-arms at 0.92)" in listing
    assert 'action="/monitors/accuracy-floor/disable"' in listing
    found = re.search(r'<script type="application/json" id="monitor-data">(.*?)</script>', page)
    assert found, page
    chart = json.loads(found.group(1))
    assert chart["series"][0]["y"] == [0.95, 0.85, 0.93]
    assert chart["band"] == {"direction": "below", "threshold": 0.9, "rearm": 0.92}
    assert [(c["kind"], c["y"]) for c in chart["crossings"]] == [
        ("below", 0.85),
        ("recovered", 0.93),
    ]
    assert '<td class="crossing-below">below</td>' in page
    assert '<td class="crossing-recovered">recovered</td>' in page


async def test_a_monitor_page_lists_the_runs_its_crossings_caused_with_links(
    ui_stack: UiStack,
) -> None:
    await apply(ui_stack.stack, RETRAIN)  # fires on accuracy-floor's threshold events
    await crossed(ui_stack)
    [firing] = await fired(ui_stack.stack, "retrain-on-drop", 1)
    run_id = firing["run_id"]

    async def listed() -> str | None:
        async with ui_stack.signed_in() as browser:
            page = (await browser.get("/monitors/accuracy-floor")).text
        return page if f'<tr data-run="{run_id}">' in page else None

    page = await eventually(listed)
    async with ui_stack.signed_in() as browser:
        table = (await browser.get("/runs", params={"monitor": "accuracy-floor"})).text
        other = (await browser.get("/runs", params={"monitor": "accuracy"})).text

    assert isinstance(page, str)
    caused = page.split('class="automation caused-runs"')[1].split("</table>")[0]
    assert f'<a href="/runs/{run_id}">{run_id[:12]}</a>' in caused
    assert "event: retrain-on-drop" in caused  # the trigger it went through
    assert 'href="/runs?monitor=accuracy-floor"' in page
    assert f'data-run="{run_id}"' in table and f'data-run="{run_id}"' not in other


async def test_the_live_parts_of_a_trigger_and_a_monitor_page_are_fragments(
    ui_stack: UiStack,
) -> None:
    await apply(ui_stack.stack, ON_SALES)
    await publish(ui_stack.stack, "ext.sales.updated", {"region": "eu"})
    [firing] = await fired(ui_stack.stack, "on-sales", 1)
    await crossed(ui_stack)
    async with ui_stack.signed_in() as browser:
        trigger = (await browser.get("/triggers/on-sales")).text
        history = await browser.get("/triggers/on-sales/history", headers={"HX-Request": "true"})
        monitor = (await browser.get("/monitors/accuracy-floor")).text
        live = await browser.get("/monitors/accuracy-floor/live", headers={"HX-Request": "true"})
        missing = await browser.get("/monitors/nope/live")

    assert 'data-fragment="/triggers/on-sales/history"' in trigger
    assert history.status_code == 200 and "<html" not in history.text
    assert f'<span class="run-state" data-run="{firing["run_id"]}">' in history.text
    assert 'data-live="/v1/monitors/accuracy-floor/live"' in monitor
    assert live.status_code == 200 and "<html" not in live.text
    assert 'id="monitor-data"' in live.text and 'class="automation caused-runs"' in live.text
    assert '<td class="crossing-below">below</td>' in live.text
    assert missing.status_code == 404


async def test_these_pages_load_nothing_from_the_internet(ui_stack: UiStack) -> None:
    await apply(ui_stack.stack, ON_SALES)
    await crossed(ui_stack)
    pages = ["/triggers", "/triggers/on-sales", "/monitors", "/monitors/accuracy-floor"]
    pages += ["/events", "/events/dead-letters", "/monitors/nope"]
    async with ui_stack.signed_in() as browser:
        for path in pages:
            page = (await browser.get(path)).text
            assets = re.findall(r'(?:src|href)="([^"]+)"', page)
            assert [a for a in assets if re.match(r"(https?:)?//", a)] == [], path
            for asset in assets:
                if asset.startswith("/static/"):
                    assert (await browser.get(asset)).status_code == 200, asset
