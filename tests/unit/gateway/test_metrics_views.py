"""The compare page's views: which runs a URL names, params side by side with their
differences, one chart a metric with the runs that logged it."""

from datetime import UTC, datetime
from typing import Any

from services.gateway.ui.metrics_views import ParamRow, charts, number, params, run_ids
from shared.queries import MetricSummary, RunView


def run(run_id: str, **fields: Any) -> RunView:
    at = datetime(2027, 1, 1, tzinfo=UTC)
    return RunView(id=run_id, state="completed", command=["true"], created_at=at, **fields)


def summary(last: float, step: int | None = 3) -> MetricSummary:
    return MetricSummary(last=last, min=0.1, max=0.9, count=4, last_step=step)


def test_a_compare_url_names_its_runs_once_each_in_order() -> None:
    assert run_ids("a1,b2, a1 c3") == (["a1", "b2", "c3"], None)


def test_fewer_than_two_or_more_than_ten_runs_say_what_is_wrong() -> None:
    one = run_ids("a1")[1]
    eleven = run_ids(",".join(f"r{i}" for i in range(11)))[1]
    odd = run_ids("a1,<b>")[1]
    assert one is not None and "at least 2 runs" in one
    assert eleven is not None and "at most 10 runs" in eleven and "11 were given" in eleven
    assert odd == "'<b>' is not a run id (letters, digits, '-', '_' and '.')"


def test_params_side_by_side_mark_the_ones_that_differ() -> None:
    runs = [
        run("a", params={"depth": 3, "seed": 1}, reported_params={"criterion": "gini"}),
        run("b", params={"depth": 5, "seed": 1}),
    ]
    assert params(runs) == [
        ParamRow("criterion", ["gini", ""], differs=True),
        ParamRow("depth", ["3", "5"], differs=True),
        ParamRow("seed", ["1", "1"], differs=False),
    ]


def test_a_reported_param_shows_over_the_requested_one() -> None:
    runs = [run("a", params={"lr": 0.1}, reported_params={"lr": 0.1}), run("b", params={"lr": 0.1})]
    assert params(runs) == [ParamRow("lr", ["0.1", "0.1"], differs=False)]


def test_a_chart_per_metric_with_the_runs_that_logged_it() -> None:
    runs = [
        run("a", metrics={"acc": summary(0.9), "loss": summary(0.2)}),
        run("b", metrics={"acc": summary(0.8, step=None)}),
    ]
    acc, loss = charts(runs)
    assert (acc.name, acc.logged, acc.stepped) == ("acc", ["a", "b"], True)
    assert (loss.name, loss.logged, loss.summaries[1]) == ("loss", ["a"], None)


def test_a_metric_without_steps_is_charted_by_time() -> None:
    (acc,) = charts([run("a", metrics={"acc": summary(0.9, step=None)})])
    assert acc.stepped is False


def test_numbers_show_six_significant_digits() -> None:
    assert (number(0.123456789), number(12345678.0), number(None)) == (
        "0.123457",
        "1.23457e+07",
        "",
    )
