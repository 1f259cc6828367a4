"""The runs table in a real browser on the quickstart's runs: filtered by pipeline from the
form, sorted by a metric from its column's header, each way round, with the metric's
values in their column and no console problem."""

from typing import TYPE_CHECKING

from tests.e2e.browser import Stack, Watched

if TYPE_CHECKING:
    from playwright.sync_api import Page


def accuracies(stack: Stack) -> dict[str, float]:
    """Each iris-train run's last accuracy, as the run's own metrics say."""
    runs = stack.client.runs(limit=100, pipeline="iris-train")
    summaries = {run.id: stack.client.metrics(run.id).summary for run in runs}
    return {run_id: s["accuracy"].last for run_id, s in summaries.items() if "accuracy" in s}


def settled(tab: "Page") -> None:
    """Wait for the runs page's first live refresh (its table asked again once the event
    stream opens) to finish: leaving while it is in flight aborts it, a failed request."""
    tab.wait_for_function(
        "performance.getEntriesByType('resource').some(e => e.name.includes('fragment=true'))"
    )


def shown(tab: "Page") -> list[tuple[str, str]]:
    """(run id, accuracy cell) of each row, in order."""
    rows = tab.locator("table.runs tbody tr[data-run]")
    return [
        (
            rows.nth(i).get_attribute("data-run") or "",
            rows.nth(i).locator("td[data-column='metric.accuracy']").inner_text(),
        )
        for i in range(rows.count())
    ]


def test_filter_by_pipeline_and_sort_by_a_metric_shows_its_order_and_values(
    ui_stack: Stack, page: tuple["Page", Watched]
) -> None:
    tab, watched = page
    expected = accuracies(ui_stack)
    assert len(expected) >= 2, expected  # the quickstart evaluates twice
    best_first = sorted(expected, key=lambda run_id: (expected[run_id], run_id), reverse=True)

    settled(tab)  # the page the login landed on
    tab.fill("input[name=pipeline]", "iris-train")
    tab.fill("input[name=columns]", "metric.accuracy")
    tab.click("form.runs-filters button[type=submit]")
    tab.wait_for_url("**/runs?*pipeline=iris-train*")
    settled(tab)
    tab.click("table.runs th a:has-text('accuracy')")
    tab.wait_for_url("**sort=metric.accuracy%3Adesc*")
    tab.wait_for_selector("th[aria-sort=descending]:has-text('accuracy')")
    settled(tab)

    rows = shown(tab)
    assert [run_id for run_id, _ in rows[: len(best_first)]] == best_first
    assert [float(value) for _, value in rows[: len(best_first)]] == [
        float(f"{expected[run_id]:.6g}") for run_id in best_first
    ]
    assert all(value == "" for _, value in rows[len(best_first) :])  # the rest have none

    tab.click("table.runs th a:has-text('accuracy')")  # the other way round
    tab.wait_for_selector("th[aria-sort=ascending]:has-text('accuracy')")
    settled(tab)
    ascending = [run_id for run_id, value in shown(tab) if value]
    assert ascending == best_first[::-1]
    assert watched.problems == []


def test_a_bad_filter_is_a_message_in_the_page(
    ui_stack: Stack, page: tuple["Page", Watched]
) -> None:
    tab, watched = page
    settled(tab)
    tab.goto("/runs?dataset=iris@latest")
    message = tab.locator("p.problem[role=alert]").inner_text()
    assert "dataset 'iris@latest' is not NAME or NAME@VERSION" in message
    settled(tab)
    tab.goto("/runs?dataset=iris@2")
    settled(tab)
    assert tab.locator("table.runs tbody tr[data-run]").count() >= 1  # the retrained runs
    assert watched.problems == []


def test_a_live_refresh_after_the_login_ended_sends_the_page_to_the_login_page(
    ui_stack: Stack, page: tuple["Page", Watched]
) -> None:
    tab, _ = page
    tab.goto("/runs?state=completed")
    settled(tab)
    tab.context.clear_cookies()  # the login expired

    ui_stack.client.submit(command=["true"])  # a change: the table asks for its fragment

    # Each refresh the run's events ask for sends the page there (a later one may cut the
    # navigation an earlier one began): wait for the page it lands on.
    tab.locator("form[action='/login'] input[name=token]").wait_for()
    assert tab.url.endswith("/login?next=/runs%3Fstate%3Dcompleted"), tab.url
    assert tab.locator("table.runs").count() == 0  # the whole page, not a fragment of it
    tab.fill("input[name=token]", ui_stack.token)
    tab.click("form[action='/login'] button")
    tab.wait_for_url("**/runs?state=completed")
