"""The triggers, monitors and events pages in a real browser on the quickstart's stack:
the trigger's firing with its run link, the monitor's chart with its threshold, and the
live tail showing an event published after the page loaded; no console problem."""

from typing import TYPE_CHECKING

from tests.e2e.browser import Stack, Watched

if TYPE_CHECKING:
    from playwright.sync_api import Page

TRIGGER = "retrain-on-new-iris"
MONITOR = "iris-accuracy"


def test_the_quickstart_triggers_history_shows_its_firing_with_its_run_link(
    ui_stack: Stack, page: tuple["Page", Watched]
) -> None:
    tab, watched = page
    found = ui_stack.client.request("GET", f"/v1/triggers/{TRIGGER}/history").json()
    [firing] = [f for f in found if f["status"] == "fired"]
    tab.goto("/triggers")
    tab.click(f"a[href='/triggers/{TRIGGER}']")

    row = tab.locator("tr[data-firing='fired']")
    row.wait_for()
    assert firing["event_id"] in row.inner_text()
    row.locator(f"a[href='/runs/{firing['run_id']}']").click()
    tab.wait_for_url(f"**/runs/{firing['run_id']}")
    assert watched.problems == []


def test_the_quickstart_monitor_shows_a_chart_with_its_threshold_and_crossing(
    ui_stack: Stack, page: tuple["Page", Watched]
) -> None:
    tab, watched = page
    tab.goto("/monitors")
    assert "enabled" in tab.locator(f"tr[data-monitor='{MONITOR}']").inner_text()
    tab.click(f"a[href='/monitors/{MONITOR}']")

    tab.wait_for_selector("#monitor-chart canvas")
    label = tab.get_attribute("#monitor-chart", "aria-label") or ""
    assert "threshold 0.9" in label
    assert tab.locator("tr[data-crossing='below']").count() >= 1
    # The band and the crossing's mark are drawn on the canvas: a pixel of the breach colour.
    assert tab.evaluate(REDDISH_PIXELS, "#monitor-chart canvas") > 0
    assert watched.problems == []


# How many of the canvas's pixels are the threshold line's or the crossing mark's red.
REDDISH_PIXELS = """(selector) => {
  const canvas = document.querySelector(selector);
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let count = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i] > 180 && data[i + 1] < 80 && data[i + 2] < 80 && data[i + 3] > 200) count++;
  }
  return count;
}"""


def test_the_events_page_shows_an_event_published_after_it_loaded(
    ui_stack: Stack, page: tuple["Page", Watched]
) -> None:
    tab, watched = page
    tab.goto("/events?subject=run.>")
    tab.wait_for_selector("#tail-status:has-text('live')")

    run_id = ui_stack.client.submit(command=["true"]).id

    row = tab.locator("#tail tr[data-subject='run.pending']", has_text=run_id)
    row.first.wait_for()
    row.first.locator("summary").click()
    assert f'"run_id": "{run_id}"' in row.first.locator("pre").inner_text()
    ui_stack.client.wait(run_id, timeout=30)
    newest = tab.locator("#tail tr").first.get_attribute("data-subject")
    assert newest == "run.completed"  # newest first
    assert watched.problems == []


def test_a_bad_subject_is_a_message_and_the_dead_letters_page_loads_clean(
    ui_stack: Stack, page: tuple["Page", Watched]
) -> None:
    tab, watched = page
    tab.goto("/events?subject=run..x")
    assert "is not a subject" in tab.locator("[role=alert]").inner_text()
    tab.click("a[href='/events/dead-letters']")
    tab.wait_for_selector("table.dead-letters")
    assert watched.problems == []
