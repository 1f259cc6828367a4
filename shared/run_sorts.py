"""How a run list may be sorted: a column of the runs table or a metric's last value, each
way round, spelled `created:desc`, `duration:asc`, `metric.accuracy:desc`. One parser for the
gateway (a bad sort is a message on the page) and the scheduler (which builds the query)."""

from dataclasses import dataclass

# The sortable columns: the name in a URL → the runs table's column.
COLUMNS = {
    "created": "created_at",
    "started": "running_at",
    "ended": "ended_at",
    "duration": "duration_s",
    "state": "state",
    "kind": "kind",
    "component": "component",
    "pipeline": "pipeline",
    "executor": "executor_id",
    "id": "id",
}
# Times and numbers read newest or biggest first unless asked otherwise; names A to Z.
DESCENDING_FIRST = {"created", "started", "ended", "duration"}
# Columns a run may lack (a run not started has no start): those runs come last, newest first.
NULLABLE = {"started", "ended", "duration", "component", "pipeline", "executor"}
METRIC = "metric."
MAX_NAME = 200


@dataclass(frozen=True)
class Sort:
    key: str  # a COLUMNS name, or "metric"
    descending: bool
    metric: str | None = None

    @property
    def nullable(self) -> bool:
        return self.metric is not None or self.key in NULLABLE

    def spelled(self) -> str:
        name = f"{METRIC}{self.metric}" if self.metric else self.key
        return f"{name}:{'desc' if self.descending else 'asc'}"


DEFAULT = Sort("created", descending=True)


def parse_sort(text: str) -> Sort:
    """`name[:asc|:desc]` → a Sort; ValueError naming what is wrong."""
    name, _, direction = text.strip().partition(":")
    if direction not in ("", "asc", "desc"):
        raise ValueError(f"sort direction {direction!r} is not asc or desc")
    if name.startswith(METRIC):
        metric = name.removeprefix(METRIC)
        if not metric or len(metric) > MAX_NAME:
            raise ValueError(f"sort {text!r} names no metric: metric.NAME")
        return Sort("metric", direction != "asc", metric)
    if name not in COLUMNS:
        known = ", ".join([*COLUMNS, "metric.NAME"])
        raise ValueError(f"sort {name!r} is not a column to sort by: one of {known}")
    descending = direction == "desc" or (not direction and name in DESCENDING_FIRST)
    return Sort(name, descending)
