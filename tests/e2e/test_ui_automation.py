"""The triggers, monitors and events pages in a real browser on the quickstart's stack:
the trigger's firing with its run link, the monitor's chart with its threshold, and the
live tail showing an event published after the page loaded; no console problem."""

from typing import TYPE_CHECKING

from tests.e2e.browser import Stack, Watched

if TYPE_CHECKING:
    from playwright.sync_api import Page

TRIGGER = "retrain-on-new-iris"
MONITOR = "iris-accuracy"
BY_HAND = 'kind: trigger\nname: by-hand\ntarget: {command: ["true"]}\n'


def test_the_quickstart_triggers_history_shows_its_firing_with_its_run_link(
    ui_stack: Stack, page: tuple["Page", Watched]
) -> None:
    tab, watched = page
    found = ui_stack.client.request("GET", f"/v1/triggers/{TRIGGER}/history").json()
    [firing] = [f for f in found if f["status"] == "fired"]
    tab.goto("/triggers")
    tab.click(f"a[href='/triggers/{TRIGGER}']")

    row = tab.locator("tr[data-firing='fired']")
    row.first.wait_for()
    tab.wait_for_selector("#trigger-history[data-refreshed]")  # its first live refresh
    row = tab.locator("tr[data-firing='fired']", has_text=firing["event_id"])
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

    tab.wait_for_selector("#monitor-live[data-refreshed] #monitor-chart canvas")
    label = tab.get_attribute("#monitor-chart", "aria-label") or ""
    assert "threshold 0.9" in label
    assert tab.locator("tr[data-crossing='below']").count() >= 1
    # The band and the crossing's mark are drawn on the canvas: a pixel of the breach colour.
    assert tab.evaluate(REDDISH_PIXELS, "#monitor-chart canvas") > 0
    assert watched.problems == []


def test_a_firing_appears_on_the_trigger_page_without_a_reload(
    ui_stack: Stack, page: tuple["Page", Watched]
) -> None:
    tab, watched = page
    applied = ui_stack.client.request(
        "POST", "/v1/triggers", content=BY_HAND, headers={"Content-Type": "application/yaml"}
    )
    assert applied.status_code < 300, applied.text
    tab.goto("/triggers/by-hand")
    tab.wait_for_selector("#trigger-history[data-refreshed]")
    before = tab.locator("tr[data-firing]").count()

    fired = ui_stack.client.request("POST", "/v1/triggers/by-hand/fire", json={}).json()

    link = tab.locator(f"#trigger-history a[href='/runs/{fired['run_id']}']")
    link.wait_for()
    assert tab.locator("tr[data-firing]").count() == before + 1
    ui_stack.client.wait(fired["run_id"], timeout=120)
    state = tab.locator(f".run-state[data-run='{fired['run_id']}']")
    state.filter(has_text="completed").wait_for()  # as the run's events say
    assert watched.problems == []


MONITOR_DATA = "JSON.parse(document.getElementById('monitor-data').textContent)"


def test_a_point_appears_on_the_monitor_chart_without_a_reload(
    ui_stack: Stack, page: tuple["Page", Watched]
) -> None:
    tab, watched = page
    tab.goto(f"/monitors/{MONITOR}")
    tab.wait_for_selector("#monitor-live[data-refreshed] #monitor-chart canvas")
    before = tab.evaluate(f"{MONITOR_DATA}.series[0].y.length")

    # Inside the re-arm band whichever way the monitor is: a point, no crossing.
    point = {"name": "accuracy", "value": 0.9104, "labels": {"pipeline": "iris-train"}}
    ui_stack.client.request("POST", "/v1/events/metric.logged", json=point)

    tab.wait_for_function(f"{MONITOR_DATA}.series[0].y.length === {before + 1}")
    assert tab.evaluate(f"{MONITOR_DATA}.series[0].y.at(-1)") == 0.9104
    tab.wait_for_selector("#monitor-chart canvas")  # drawn again
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
