"""Reading a runs page's URL: filters, sort, columns and page cursor, or a message naming
what is wrong; and the URLs the page links to."""

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from services.gateway.ui import runs_query
from services.gateway.ui.runs_query import Column
from shared.queries import RunCursor, RunView
from shared.run_sorts import Sort, parse_sort

T = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


def test_every_filter_of_the_url_goes_into_the_query() -> None:
    params = {
        "state": "failed",
        "component": "train",
        "pipeline": "iris-train@1",
        "trigger": "on-iris",
        "dataset": "iris@2",
        "since": "2026-03-01",
        "until": "2026-03-02",
        "q": " 50%_ ",
    }
    asked, problem = runs_query.read(params, 51)

    assert problem is None
    query = asked.query
    assert (query.state, query.component, query.pipeline, query.trigger) == (
        "failed",
        "train",
        "iris-train@1",
        "on-iris",
    )
    assert (query.dataset, query.dataset_version, query.text) == ("iris", 2, "50%_")
    assert query.since == datetime(2026, 3, 1, tzinfo=UTC)
    assert query.until == datetime(2026, 3, 2, 23, 59, 59, 999999, tzinfo=UTC)  # the whole day
    assert query.limit == 51


def test_a_time_without_a_zone_is_utc_and_one_with_a_zone_is_kept() -> None:
    asked, _ = runs_query.read({"since": "2026-03-01T12:30", "until": "2026-03-01T14:30+02:00"}, 5)
    assert asked.query.since == T
    assert asked.query.until == T


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"state": "bogus"}, "state 'bogus' is not a run state"),
        ({"dataset": "iris@two"}, "dataset 'iris@two' is not NAME or NAME@VERSION"),
        ({"dataset": "iris@0"}, "dataset 'iris@0' is not NAME or NAME@VERSION"),
        ({"dataset": "@2"}, "dataset '@2' is not NAME or NAME@VERSION"),
        ({"since": "yesterday"}, "since 'yesterday' is not a date or time"),
        ({"until": "2026-13-01"}, "until '2026-13-01' is not a date or time"),
        ({"sort": "colour"}, "sort 'colour' is not a column to sort by"),
        ({"sort": "created:up"}, "sort direction 'up' is not asc or desc"),
        ({"sort": "metric."}, "names no metric"),
        ({"columns": "metric.acc,lr"}, "column 'lr' is not metric.NAME or param.NAME"),
        ({"after": "not-a-cursor"}, "after is not a page of this list"),
        ({"after": "W1tbW1tbW1tbW1tbW1tbW1tb" * 120}, "after is not a page of this list"),
        ({"dataset": "iris@\u00b2"}, "is not NAME or NAME@VERSION"),  # a digit, not 0-9
        ({"columns": "metric.val:loss"}, "a name with ':' cannot be shown or sorted by"),
        ({"q": "x" * 201}, "q is longer than 200 characters"),
    ],
)
def test_a_bad_value_is_a_message_naming_it(params: dict[str, str], message: str) -> None:
    asked, problem = runs_query.read(params, 51)
    assert problem is not None and message in problem
    assert asked.query.limit == 51  # the page still renders, with the form as typed
    assert asked.values == {k: v for k, v in params.items() if k != "after"}


def test_sorts_read_each_way_with_times_newest_first_by_default() -> None:
    assert parse_sort("created") == Sort("created", descending=True)
    assert parse_sort("duration:asc") == Sort("duration", descending=False)
    assert parse_sort("state") == Sort("state", descending=False)
    assert parse_sort("metric.accuracy") == Sort("metric", True, "accuracy")
    assert parse_sort("metric.val.loss:asc").spelled() == "metric.val.loss:asc"
    assert parse_sort("metric.accuracy").nullable and not parse_sort("created").nullable


def test_columns_keep_their_order_once_each() -> None:
    columns = runs_query.columns_of("metric.accuracy, param.lr,metric.accuracy,")
    assert columns == [Column("metric", "accuracy"), Column("param", "lr")]
    asked, _ = runs_query.read({"columns": "metric.accuracy,param.lr", "sort": "metric.f1"}, 5)
    assert asked.query.metrics == ["accuracy"]


def a_run(**fields: object) -> RunView:
    return RunView.model_validate(
        {"id": "r1", "state": "completed", "command": [], "created_at": T, **fields}
    )


def test_the_next_page_keeps_the_query_and_starts_after_the_last_run_in_its_sort() -> None:
    asked, _ = runs_query.read({"pipeline": "iris", "sort": "metric.accuracy:desc"}, 51)
    last = a_run(latest={"accuracy": 0.93})

    url = urlsplit(runs_query.next_page(asked, last))
    params = {name: values[0] for name, values in parse_qs(url.query).items()}

    assert url.path == "/runs"
    assert params["pipeline"] == "iris" and params["sort"] == "metric.accuracy:desc"
    cursor = runs_query.decode_cursor(params["after"])
    assert cursor == RunCursor(value=0.93, created_at=T, id="r1")
    again, problem = runs_query.read(params, 51)
    assert problem is None and again.query.after == cursor


def test_a_run_without_the_sort_value_pages_on_with_none() -> None:
    cursor = runs_query.cursor_of(a_run(), parse_sort("duration"))
    assert cursor == RunCursor(value=None, created_at=T, id="r1")
    started = runs_query.cursor_of(a_run(started_at=T), parse_sort("started"))
    assert started.value == T.isoformat()


def test_a_column_sort_link_turns_the_order_round_when_it_is_the_sort_already() -> None:
    asked, _ = runs_query.read({"state": "completed", "sort": "duration:desc", "after": ""}, 5)
    assert runs_query.sort_link(asked, "duration") == "/runs?state=completed&sort=duration%3Aasc"
    assert runs_query.sort_link(asked, "metric.f1").endswith("sort=metric.f1%3Adesc")
    assert runs_query.sort_link(asked, "state").endswith("sort=state%3Aasc")
