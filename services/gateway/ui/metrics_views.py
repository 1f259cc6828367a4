"""What the metric charts and the compare page show, made from the services' views. Pure:
no I/O."""

import re
from dataclasses import dataclass
from typing import Any

from shared.queries import MetricSummary, RunView

FEWEST, MOST = 2, 10  # runs a compare page shows
SEPARATORS = re.compile(r"[\s,]+")
RUN_ID = re.compile(r"[\w.-]{1,100}")


@dataclass(frozen=True)
class Chart:
    """A metric's chart: its name, whether its points have steps (else: by time only), its
    summary per run (in the runs' order; None where a run did not log it), and the runs
    that logged it (a line each)."""

    name: str
    stepped: bool
    summaries: list[MetricSummary | None]
    logged: list[str]


@dataclass(frozen=True)
class ParamRow:
    name: str
    values: list[str]  # per run, "" where a run has no such param
    differs: bool


def number(value: float | None) -> str:
    """A metric value as a table shows it: six significant digits."""
    return "" if value is None else f"{value:.6g}"


def charts(runs: list[RunView]) -> list[Chart]:
    """One chart per metric any of the runs logged, by name."""
    names = sorted({name for run in runs for name in run.metrics})
    return [_chart(name, runs) for name in names]


def _chart(name: str, runs: list[RunView]) -> Chart:
    summaries = [run.metrics.get(name) for run in runs]
    logged = [run.id for run, summary in zip(runs, summaries, strict=True) if summary]
    stepped = any(summary.last_step is not None for summary in summaries if summary)
    return Chart(name, stepped, summaries, logged)


def run_ids(text: str) -> tuple[list[str], str | None]:
    """The runs a compare URL names (`runs=a,b,c`), each once, or why they cannot be shown."""
    ids = list(dict.fromkeys(part for part in SEPARATORS.split(text) if part))
    if bad := [run_id for run_id in ids if not RUN_ID.fullmatch(run_id)]:
        return ids, f"{bad[0]!r} is not a run id (letters, digits, '-', '_' and '.')"
    if len(ids) < FEWEST:
        return ids, f"compare needs at least {FEWEST} runs: give their ids, e.g. runs=ID1,ID2"
    if len(ids) > MOST:
        return ids, f"compare shows at most {MOST} runs at once: {len(ids)} were given"
    return ids, None


def params(runs: list[RunView]) -> list[ParamRow]:
    """Each param of any run side by side, by name: as the program reported it, else as
    it was requested; a run without it shows ""."""
    given = [{**run.params, **run.reported_params} for run in runs]
    rows = []
    for name in sorted({name for values in given for name in values}):
        shown = [_text(values.get(name)) for values in given]
        rows.append(ParamRow(name, shown, differs=len(set(shown)) > 1))
    return rows


def _text(value: Any) -> str:
    if value is None:
        return ""
    return str(value).lower() if isinstance(value, bool) else str(value)
