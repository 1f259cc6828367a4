"""Spec models of `kind: trigger` and `kind: monitor`, validated by the trigger service.

Filters and bindings are checked when the spec is read, so a wrong operator, a cron line
that does not parse or a time zone that does not exist is refused at apply time.
"""

import re
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import Field, field_validator, model_validator

from shared.durations import Duration
from shared.names import MonitorName, TriggerName
from shared.notify_specs import Notify, unknown_fields
from shared.specs import REFERENCE, Strict

OPERATORS = frozenset({"eq", "ne", "lt", "lte", "gt", "gte", "in", "nin", "exists", "regex"})
SUBJECT = re.compile(r"^([A-Za-z0-9_-]+|\*)(\.([A-Za-z0-9_-]+|\*))*(\.>)?$|^>$")


def check_where(where: dict[str, Any]) -> dict[str, Any]:
    """Each key a dotted path; each value a literal (equality) or a mapping of operators."""
    for path, condition in where.items():
        if not re.fullmatch(r"[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*", path):
            raise ValueError(f"{path!r} is not a dotted path")
        if not isinstance(condition, dict):
            continue
        unknown = sorted(set(condition) - OPERATORS)
        if unknown:
            raise ValueError(
                f"unknown operator {unknown[0]!r} for {path!r}; use {', '.join(sorted(OPERATORS))}"
            )
        for op in ("in", "nin"):
            if op in condition and not isinstance(condition[op], list):
                raise ValueError(f"{path}: {op} takes a list")
        if "regex" in condition:
            try:
                re.compile(str(condition["regex"]))
            except re.error as err:
                raise ValueError(f"{path}: regex does not compile: {err}") from None
    return where


class Condition(Strict):
    subject: str = Field(description="Subject to listen on; `*` and `>` wildcards allowed.")
    where: dict[str, Any] = Field(default_factory=dict, description="Filter on the event data.")

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str) -> str:
        if not SUBJECT.match(value):
            raise ValueError(f"{value!r} is not a NATS subject")
        if value.startswith("dlq."):
            raise ValueError("triggers cannot listen on dead letters")
        return value

    _where = field_validator("where")(classmethod(lambda cls, v: check_where(v)))


class Schedule(Strict):
    cron: str = Field(description="Five-field cron expression.")
    timezone: str = Field("UTC", description="IANA time zone the cron is read in.")
    catchup: Literal["none", "latest", "all"] = Field(
        "none", description="What to do with ticks missed while the service was down."
    )
    max_catchup: int = Field(10, ge=1, le=1000, description="Cap for catchup: all.")
    start: datetime | None = None
    end: datetime | None = None

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        if len(value.split()) != 5 or not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a valid five-field cron expression")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone") from None
        return value


class AllOf(Strict):
    window: Duration = Field(description="All conditions must be seen within this long.")
    events: dict[str, Condition] = Field(min_length=2, description="Name → condition.")


class Target(Strict):
    component: str | None = Field(None, description="Component NAME[@VERSION].")
    pipeline: str | None = Field(None, description="Pipeline NAME[@VERSION].")
    command: list[str] | None = Field(None, min_length=1, description="Inline command.")
    notify: Notify | None = Field(None, description="Send a notification, not a run.")
    params: dict[str, Any] = Field(default_factory=dict, description="May use bindings.")
    inputs: dict[str, str] = Field(default_factory=dict, description="May use bindings.")
    priority: int = 0

    @model_validator(mode="after")
    def _one(self) -> "Target":
        targets = (self.component, self.pipeline, self.command, self.notify)
        if sum(bool(t) for t in targets) != 1:
            raise ValueError("give exactly one of component, pipeline, command or notify")
        if self.notify and (self.params or self.inputs):
            raise ValueError("a notify target takes no params or inputs")
        return self


class TriggerSpec(Strict):
    kind: Literal["trigger"] = "trigger"
    name: TriggerName
    description: str = ""
    target: Target
    schedule: Schedule | None = None
    event: Condition | None = None
    all_of: AllOf | None = None
    debounce: Duration = Field(0.0, description="A burst within this window starts one run.")
    concurrency: Literal["allow", "skip", "queue", "replace"] = "allow"
    enabled: bool = True
    max_depth: int = Field(3, ge=1, le=20, description="Longest chain of triggers it may extend.")

    @model_validator(mode="after")
    def _one_condition(self) -> "TriggerSpec":
        given = [k for k in ("schedule", "event", "all_of") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give at most one of schedule, event, all_of (got {given})")
        allowed = {"event": ("event.",), "all_of": ("events.",)}.get(self.type, ())
        allowed = (*allowed, "trigger.", "tick", "fire.")
        target = self.target
        templated = [*target.inputs.values(), *map(str, target.params.values())]
        templated += [target.notify.text] if target.notify and target.notify.text else []
        for value in [*templated, *(target.command or [])]:
            for ref in REFERENCE.findall(value):
                if not ref.startswith(allowed):
                    raise ValueError(
                        f"binding {{{{ {ref} }}}} is not available to a {self.type} trigger"
                    )
                if self.all_of and ref.startswith("events."):
                    name = ref.split(".")[1]
                    if name not in self.all_of.events:
                        raise ValueError(f"binding {{{{ {ref} }}}} names no condition of all_of")
        text = target.notify.text if target.notify else None
        unknown = unknown_fields(text, self.event.subject) if text and self.event else []
        if unknown:
            raise ValueError(f"target.notify.text: {unknown[0]}")
        return self

    @property
    def type(self) -> str:
        if self.schedule:
            return "schedule"
        if self.event:
            return "event"
        if self.all_of:
            return "all_of"
        return "manual"

    def conditions(self) -> dict[str, Condition]:
        if self.event:
            return {"event": self.event}
        return dict(self.all_of.events) if self.all_of else {}


class MonitorSpec(Strict):
    kind: Literal["monitor"] = "monitor"
    name: MonitorName
    description: str = ""
    metric: str = Field(min_length=1, description="Metric name to watch.")
    where: dict[str, str] = Field(
        default_factory=dict,
        description="Labels the points must carry, e.g. component, pipeline, model.",
    )
    below: float | None = None
    above: float | None = None
    aggregate: Literal["last", "mean"] = "last"
    window_points: int | None = Field(None, ge=1, description="Mean over the last N points.")
    window: Duration | None = Field(None, description="Mean over this long.")
    for_: Duration = Field(0.0, alias="for", description="How long the condition must hold.")
    hysteresis: float = Field(0.0, ge=0, description="Re-arm only past threshold ± this.")
    enabled: bool = True

    model_config = Strict.model_config | {"populate_by_name": True}

    @model_validator(mode="after")
    def _one_threshold(self) -> "MonitorSpec":
        if (self.below is None) == (self.above is None):
            raise ValueError("give exactly one of below or above")
        return self
