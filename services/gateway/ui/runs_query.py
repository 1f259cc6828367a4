"""What a runs page's URL asks for: the filters, the sort, the chosen metric and param
columns and the page (a keyset cursor), read into a run-list query, or the reason it
cannot be asked; and the URLs of the next page and of each column's sort. Pure: no I/O."""

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError

from shared.queries import RunCursor, RunList, RunView
from shared.run_sorts import DEFAULT, Sort, parse_sort
from shared.runs import RunState

FILTERS = ("state", "component", "pipeline", "trigger", "monitor", "dataset", "since", "until", "q")
KEPT = (*FILTERS, "sort", "columns")  # what the next page and a column's sort keep
MAX_TEXT = 200
MAX_COLUMNS = 20


class BadQuery(ValueError):
    """A value of the URL that cannot be asked, named in the message."""


@dataclass(frozen=True)
class Column:
    kind: str  # "metric" or "param"
    name: str

    @property
    def spelled(self) -> str:
        return f"{self.kind}.{self.name}"


@dataclass
class RunsQuery:
    query: RunList
    sort: Sort = DEFAULT
    columns: list[Column] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)  # the URL's values, for the form

    @property
    def first_page(self) -> str:
        return "/runs?" + urlencode(self.values)


def read(params: Mapping[str, str], limit: int) -> tuple[RunsQuery, str | None]:
    """The query a runs page's URL asks for, or the default one and why it cannot be."""
    values = {name: params[name].strip() for name in KEPT if params.get(name, "").strip()}
    try:
        return _read(values, params.get("after"), limit), None
    except BadQuery as bad:
        return RunsQuery(RunList(limit=limit), values=values), str(bad)


def _read(values: dict[str, str], after: str | None, limit: int) -> RunsQuery:
    for name, value in values.items():
        if len(value) > MAX_TEXT and name != "columns":
            raise BadQuery(f"{name} is longer than {MAX_TEXT} characters")
    sort = _sort(values.get("sort", ""))
    columns = columns_of(values.get("columns", ""))
    dataset, version = _dataset(values.get("dataset"))
    asked: dict[str, Any] = {
        "state": _state(values.get("state")),
        "component": values.get("component"),
        "pipeline": values.get("pipeline"),
        "trigger": values.get("trigger"),
        "monitor": values.get("monitor"),
        "dataset": dataset,
        "dataset_version": version,
        "since": _time("since", values.get("since"), end_of_day=False),
        "until": _time("until", values.get("until"), end_of_day=True),
        "text": values.get("q"),
        "sort": sort.spelled(),
        "after": decode_cursor(after) if after else None,
        "metrics": [c.name for c in columns if c.kind == "metric"],
    }
    try:
        query = RunList(**asked, limit=limit)
    except ValidationError as error:
        first = error.errors()[0]
        raise BadQuery(f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from error
    return RunsQuery(query, sort, columns, values)


def _sort(text: str) -> Sort:
    try:
        return parse_sort(text) if text else DEFAULT
    except ValueError as bad:
        raise BadQuery(str(bad)) from bad


def _state(state: str | None) -> RunState | None:
    if state is None:
        return None
    if state not in set(RunState):
        raise BadQuery(f"state {state!r} is not a run state: one of {', '.join(RunState)}")
    return RunState(state)


def _dataset(text: str | None) -> tuple[str | None, int | None]:
    """`iris` (any version) or `iris@2`."""
    if text is None:
        return None, None
    name, at, version = text.partition("@")
    if not name or (at and not (version.isascii() and version.isdigit() and int(version) >= 1)):
        raise BadQuery(f"dataset {text!r} is not NAME or NAME@VERSION (a version number)")
    return name, int(version) if at else None


def _time(name: str, text: str | None, *, end_of_day: bool) -> datetime | None:
    """An ISO 8601 date or time (UTC unless it says otherwise); a date alone `until` means
    up to the end of that day."""
    if text is None:
        return None
    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
        at = datetime.combine(day, time(), UTC) if day else datetime.fromisoformat(text)
    except ValueError:
        raise BadQuery(f"{name} {text!r} is not a date or time (ISO 8601)") from None
    if day and end_of_day:
        at += timedelta(days=1, microseconds=-1)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def columns_of(text: str) -> list[Column]:
    """`metric.accuracy,param.lr` → the columns, in that order."""
    columns: list[Column] = []
    for spelled in filter(None, (part.strip() for part in text.split(","))):
        kind, _, name = spelled.partition(".")
        if kind not in ("metric", "param") or not name or len(name) > MAX_TEXT:
            raise BadQuery(f"column {spelled!r} is not metric.NAME or param.NAME")
        if ":" in name:
            raise BadQuery(f"column {spelled!r}: a name with ':' cannot be shown or sorted by")
        if Column(kind, name) not in columns:
            columns.append(Column(kind, name))
    if len(columns) > MAX_COLUMNS:
        raise BadQuery(f"columns: at most {MAX_COLUMNS}")
    return columns


def encode_cursor(cursor: RunCursor) -> str:
    text = json.dumps([cursor.value, cursor.created_at.isoformat(), cursor.id])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(text: str) -> RunCursor:
    try:
        padded = text + "=" * (-len(text) % 4)
        value, created_at, run_id = json.loads(base64.urlsafe_b64decode(padded))
        return RunCursor(value=value, created_at=created_at, id=run_id)
    except (ValueError, TypeError, RecursionError, binascii.Error, ValidationError):
        raise BadQuery("after is not a page of this list: open its first page again") from None


def cursor_of(run: RunView, sort: Sort) -> RunCursor:
    """Where a page that ends with `run` ended, in the sort's terms."""
    value: Any
    if sort.metric:
        value = run.latest.get(sort.metric)
    else:
        value = {
            "created": run.created_at.isoformat(),
            "started": run.started_at.isoformat() if run.started_at else None,
            "ended": run.ended_at.isoformat() if run.ended_at else None,
            "duration": run.duration_s,
            "state": run.state.value,
            "kind": run.kind,
            "component": run.component,
            "pipeline": run.pipeline,
            "executor": run.executor_id,
            "id": run.id,
        }[sort.key]
    return RunCursor(value=value, created_at=run.created_at, id=run.id)


def next_page(asked: RunsQuery, last: RunView) -> str:
    after = encode_cursor(cursor_of(last, asked.sort))
    return "/runs?" + urlencode(asked.values | {"after": after})


def sort_link(asked: RunsQuery, key: str) -> str:
    """The URL sorting by `key` (a column, or metric.NAME): the other way round when the
    page is sorted by it already."""
    current = asked.sort.spelled().rpartition(":")[0]
    sort = parse_sort(key)
    if current == key:
        sort = Sort(sort.key, not asked.sort.descending, sort.metric)
    return "/runs?" + urlencode(asked.values | {"sort": sort.spelled()})
