"""The runs pages in a real browser: what a person sees, with no console error, no failed
request and nothing loaded from the internet."""

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from services.gateway.ui.render import NAV
from tests.e2e.browser import ARGS, CHROMIUM, Stack, Watched, boxops, running

if TYPE_CHECKING:
    from playwright.sync_api import Page


def test_the_runs_page_loads_clean(ui_stack: Stack, page: tuple["Page", Watched]) -> None:
    tab, watched = page
    done = ui_stack.client.submit(command=["true"]).id
    ui_stack.client.wait(done, timeout=30)
    tab.goto("/runs")
    tab.wait_for_selector(f"a[href='/runs/{done}']")
    assert tab.locator("tbody tr").count() >= 1
    assert watched.problems == []


def test_a_printed_line_appears_within_a_second(
    ui_stack: Stack, page: tuple["Page", Watched]
) -> None:
    tab, watched = page
    script = "echo first; until [ -e gate ]; do sleep 0.01; done; echo second >&2; sleep 60"
    run_id = running(ui_stack, script)
    gate = ui_stack.gate(run_id)
    tab.goto(f"/runs/{run_id}")
    tab.wait_for_selector("#logs .stdout:has-text('first')")

    gate.touch()
    printed = time.monotonic()
    tab.wait_for_selector("#logs .stderr:has-text('second')", timeout=5_000)
    shown_s = time.monotonic() - printed

    assert shown_s < 1.0, shown_s
    ui_stack.client.abort(run_id)
    assert watched.problems == []


def test_a_state_change_appears_without_a_reload(
    ui_stack: Stack, page: tuple["Page", Watched]
) -> None:
    tab, watched = page
    run_id = running(ui_stack, "until [ -e gate ]; do sleep 0.05; done")
    gate = ui_stack.gate(run_id)
    tab.goto("/runs")
    row = tab.locator(f"tr[data-run='{run_id}']")
    row.locator(".state-running").wait_for()
    tab.evaluate("window.notReloaded = true")

    gate.touch()

    row.locator(".state-completed").wait_for()
    assert tab.evaluate("window.notReloaded") is True
    assert watched.problems == []


def test_abort_from_the_page_stops_the_run(ui_stack: Stack, page: tuple["Page", Watched]) -> None:
    tab, watched = page
    run_id = running(ui_stack, "sleep 60")
    tab.goto(f"/runs/{run_id}")
    tab.click("text=Abort")

    assert ui_stack.client.wait(run_id, timeout=30).state == "aborted"
    tab.locator("#run-state .state-aborted").wait_for()
    assert watched.problems == []


def test_an_unknown_run_is_a_404_page(page: tuple["Page", Watched]) -> None:
    tab, _ = page
    answer = tab.goto("/runs/nope")
    assert answer is not None and answer.status == 404
    assert "no run with id 'nope'" in tab.inner_text("main")


def test_boxops_ui_prints_the_url_and_needs_a_stack(ui_stack: Stack, tmp_path: Path) -> None:
    shown = boxops(ui_stack.env | {"DISPLAY": ""}, "ui")
    assert (shown.returncode, shown.stdout) == (0, f"{ui_stack.url}/runs\n"), shown.stderr

    nothing = boxops(ui_stack.env | {"BOXOPS_HOME": str(tmp_path / "none")}, "ui")

    assert nothing.returncode == 2 and nothing.stdout == ""
    assert nothing.stderr.strip().startswith("boxops is not running under")


def test_a_run_caused_by_new_data_shows_the_chain_to_its_trigger(
    ui_stack: Stack, page: tuple["Page", Watched]
) -> None:
    tab, watched = page
    runs = ui_stack.client.runs(pipeline="iris-train", limit=100)
    [caused] = [run for run in runs if run.kind == "pipeline" and run.cause.kind == "event"]
    trigger = caused.cause.trigger

    tab.goto(f"/runs/{caused.id}")

    chain = tab.locator("nav.cause li")
    assert chain.all_inner_texts() == [
        f"event dataset.version.created ({caused.cause.event_id})",
        f"trigger {trigger}",
        "this run",
    ]
    assert chain.nth(1).locator("a").get_attribute("href") == f"/triggers/{trigger}"
    assert watched.problems == []


def test_the_log_search_shows_only_matching_lines_and_the_log_downloads(
    ui_stack: Stack, page: tuple["Page", Watched]
) -> None:
    tab, watched = page
    run_id = ui_stack.client.submit(
        command=["sh", "-c", "echo apple; echo banana; echo pineapple"]
    ).id
    ui_stack.client.wait(run_id, timeout=30)
    tab.goto(f"/runs/{run_id}")
    tab.wait_for_selector("#logs span:has-text('pineapple')")

    tab.fill("#log-search", "APPLE")

    shown = tab.locator("#logs span:visible").all_inner_texts()
    assert [line.strip() for line in shown] == ["apple", "pineapple"]
    assert tab.inner_text("#log-matches") == "2 of 3 lines"
    with tab.expect_download() as downloading:
        tab.click("text=Download")
    saved = downloading.value.path()
    assert saved.read_text() == "apple\nbanana\npineapple\n"
    assert watched.problems == []


def test_boxops_ui_opens_the_browser_signed_in(ui_stack: Stack, tmp_path: Path) -> None:
    pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium")
    # The browser `boxops ui` opens: webbrowser runs $BROWSER with the URL; this one writes
    # it down for chromium to open.
    opened = tmp_path / "opened"
    fake = tmp_path / "browser"
    fake.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    fake.chmod(0o755)
    env = ui_stack.env | {"DISPLAY": ":99", "BROWSER": f"{fake} %s"}

    shown = boxops(env, "ui")

    assert (shown.returncode, shown.stdout) == (0, f"{ui_stack.url}/runs\n"), shown.stderr
    link = opened.read_text().strip()
    from playwright.sync_api import sync_playwright

    assert link.startswith(f"{ui_stack.url}/login/link/") and ui_stack.token not in link
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tab = browser.new_page()  # no cookie: signed in by the link alone
        tab.goto(link)
        assert tab.url == f"{ui_stack.url}/runs"
        assert tab.locator("form[action='/logout']").count() == 1
        browser.close()


def test_every_page_loads_clean_and_is_photographed(
    ui_stack: Stack, page: tuple["Page", Watched], tmp_path: Path
) -> None:
    """Each page of the header, and the first item each one lists, on the quickstart's data:
    no console error, no failed request, nothing from outside; a screenshot of each."""
    tab, watched = page
    shots = Path(os.environ.get("BOXOPS_SCREENSHOTS", tmp_path)) / "pages"
    shots.mkdir(parents=True, exist_ok=True)
    seen = []
    for _, path in NAV:
        tab.goto(path)
        settled(tab)
        seen.append(path)
        tab.screenshot(path=shots / f"{path.strip('/')}.png", full_page=True)
        first = tab.locator(f"main table a[href^='{path}/']").first
        if first.count():
            item = str(first.get_attribute("href"))
            tab.goto(item)
            settled(tab)
            seen.append(item)
            name = item.strip("/").replace("/", "_")[:80]
            tab.screenshot(path=shots / f"{name}.png", full_page=True)

    assert {"/runs", "/datasets", "/models", "/triggers"} <= set(seen)
    assert len(seen) > len(NAV)  # lists with something to open
    assert watched.problems == []


def settled(tab: "Page") -> None:
    """Loaded, with the fragments it asks for on load answered (live streams stay open, so
    the network is never idle)."""
    tab.wait_for_load_state("load")
    tab.wait_for_timeout(300)  # htmx issues its on-load requests
    tab.wait_for_function("!document.querySelector('.htmx-request')")
