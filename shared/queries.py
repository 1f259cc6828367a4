"""Request/reply contracts: what services answer over NATS and the gateway returns."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from shared.run_parts import (
    Cause,
    DeviceState,
    FileEntry,
    InputRef,
    LogLine,
    Resources,
    RunArtifact,
    RunOutput,
    RunUsage,
)
from shared.run_sorts import parse_sort
from shared.runs import RunState
from shared.storable import Instant, Text

RUNS_GET = "svc.scheduler.runs.get"
# Registry lookups: body RefQuery; result the view named (shared.registry_api).
COMPONENT_GET = "svc.registry.components.get"  # NAME[@VERSION] → ComponentView
PIPELINE_GET = "svc.registry.pipelines.get"  # NAME[@VERSION] → PipelineView
DATASET_VERSION_GET = "svc.registry.datasets.version"  # NAME[@VERSION] → DatasetVersionView
MODEL_VERSION_GET = "svc.registry.models.version"  # NAME@VERSION | NAME@ALIAS → ModelVersionView
RUNS_LIST = "svc.scheduler.runs.list"
RUNS_METRICS = "svc.scheduler.runs.metrics"
RUNS_METRIC_SERIES = "svc.scheduler.runs.metric_series"


class TransitionView(BaseModel):
    state: RunState = Field(description="Public state after the transition.")
    substate: str | None = Field(None, description="Recorded sub-state.")
    at: datetime = Field(description="When it happened.")
    reason: str = Field("", description="Why.")


class StepView(BaseModel):
    step: str
    run_id: str
    state: RunState
    substate: str | None = None
    reason: str = ""
    executor_id: str | None = Field(None, description="Executor the step runs or ran on.")


class MetricSummary(BaseModel):
    last: float
    min: float
    max: float
    count: int
    last_step: int | None = None


class RunView(BaseModel):
    id: str
    kind: str = Field("command", description="command, component or pipeline.")
    state: RunState = Field(description="Public state.")
    substate: str | None = None
    reason: str = Field("", description="Why the run is in its state.")
    command: list[str]
    component: str | None = None
    pipeline: str | None = None
    parent_id: str | None = None
    step: str | None = None
    params: dict[str, Any] = Field(
        default_factory=dict, description="As requested: typed, with defaults filled in."
    )
    reported_params: dict[str, Any] = Field(
        default_factory=dict,
        description="What the program logged (`::param` lines, the SDK's log_params).",
    )
    inputs: dict[str, InputRef] = Field(default_factory=dict)
    outputs: dict[str, RunOutput] = Field(default_factory=dict)
    env: dict[str, str] = Field(default_factory=dict)
    resources: Resources = Field(default_factory=Resources)
    priority: int = 0
    cause: Cause = Field(default_factory=Cause)
    executor_id: str | None = None
    attempt: int = 1
    retries: int = 0
    timeout_s: float | None = None
    exit_code: int | None = None
    error: str = ""
    provenance: dict[str, Any] = Field(default_factory=dict)
    backend: str = Field("local", description="Executor backend: local, docker or ray.")
    image: str | None = Field(None, description="Container image (docker backend).")
    tags: dict[str, str] = Field(default_factory=dict)
    artifacts: list[RunArtifact] = Field(default_factory=list, description="Logged with the SDK.")
    logs: FileEntry | None = Field(None, description="Archive of its output, once it ended.")
    usage: RunUsage | None = Field(
        None, description="What its processes used (peaks, totals), once it ended."
    )
    devices: list[str] = Field(default_factory=list, description="The GPUs it held, by id.")
    created_at: datetime
    history: list[TransitionView] = Field(default_factory=list)
    steps: list[StepView] = Field(default_factory=list, description="A pipeline's step runs.")
    metrics: dict[str, MetricSummary] = Field(default_factory=dict)
    started_at: datetime | None = Field(None, description="When it last began running.")
    ended_at: datetime | None = Field(None, description="When it ended.")
    duration_s: float | None = Field(None, description="From its last start to its end.")
    latest: dict[str, float] = Field(
        default_factory=dict, description="In a run list: the last value of each metric asked."
    )


class RunAccepted(BaseModel):
    """The gateway's answer to a submitted run: the scheduler records it right after."""

    id: str
    state: RunState = RunState.PENDING
    url: str


class RunLogs(BaseModel):
    run_id: str
    lines: list[LogLine]


class RunEnded(BaseModel):
    """The last event of a run's log stream: how the run ended."""

    id: str
    state: RunState
    reason: str = ""


class MetricPoint(BaseModel):
    step: int | None = None
    value: float
    at: datetime


class RunMetrics(BaseModel):
    run_id: str
    summary: dict[str, MetricSummary]
    series: dict[str, list[MetricPoint]]


class RefQuery(BaseModel):
    ref: str = Field(description="NAME, NAME@VERSION or NAME@ALIAS.")


class RunGet(BaseModel):
    run_id: str


class RunMetricsGet(RunGet):
    points: int = Field(
        5000, ge=2, le=100_000, description="At most this many points of each series."
    )


class MetricSeriesGet(RunGet):
    name: Text = Field(min_length=1, max_length=200, description="Metric name.")
    x: Literal["step", "time"] = Field(
        "step",
        description="The x axis: the points' steps (those without one left out), or times.",
    )
    points: int = Field(1000, ge=2, le=10_000, description="At most this many points.")


class MetricSeries(BaseModel):
    """One metric's series along an axis, thinned to at most the points asked for: the
    lowest and highest point of each of equal slices of the axis, and the first and last."""

    run_id: str
    name: str
    x: Literal["step", "time"]
    count: int = Field(description="Points on this axis before thinning.")
    points: list[MetricPoint]


class RunCursor(BaseModel):
    """Where a page of a sorted run list ended: its last run's sort value, creation time and
    id (keyset pagination; the id breaks ties)."""

    value: float | str | None = Field(None, description="The sort value (None: it had none).")
    created_at: datetime
    id: Text


class RunList(BaseModel):
    state: RunState | None = None
    component: Text | None = None
    pipeline: Text | None = None
    trigger: Text | None = None
    monitor: Text | None = Field(
        None, description="Caused through this monitor: one of its threshold events fired it."
    )
    parent_id: Text | None = None
    since: Instant | None = None
    before: Instant | None = None
    until: Instant | None = Field(None, description="Created at or before.")
    text: Text | None = Field(
        None, description="In the id's start, component, pipeline, command or reason."
    )
    dataset: Text | None = Field(None, description="Took this dataset as an input.")
    dataset_version: int | None = Field(None, description="That version of it.")
    sort: str = Field(
        "created:desc", max_length=250, description="COLUMN or metric.NAME, [:asc|:desc]."
    )
    after: RunCursor | None = Field(None, description="The page after this one.")
    metrics: list[Text] = Field(
        default_factory=list, max_length=20, description="Last values of these to return."
    )
    limit: int = Field(50, ge=1, le=1000)

    @field_validator("sort")
    @classmethod
    def _sortable(cls, sort: str) -> str:
        return parse_sort(sort).spelled()


EXECUTORS_LIST = "svc.scheduler.executors.list"


class ExecutorList(BaseModel):
    """Ask for the executors the scheduler has heard from."""


class ExecutorView(BaseModel):
    """An executor as its last heartbeat showed it."""

    id: str
    alive: bool = Field(description="Heard from within three of its heartbeat intervals.")
    stopping: bool = False
    backends: list[str] = Field(default_factory=list)
    capacity: Resources = Field(default_factory=Resources)
    slots: int = 0
    running: list[str] = Field(default_factory=list, description="The runs it runs.")
    labels: dict[str, str] = Field(default_factory=dict)
    devices: list[DeviceState] = Field(default_factory=list, description="Its GPUs, free or busy.")
    last_seen: datetime


class Reply(BaseModel):
    """Every query reply: a result, or an error with an HTTP-like status."""

    ok: bool = True
    status: int = 200
    error: str = ""
    result: Any = None


# The trigger service (triggers and monitors).
TRIGGERS_APPLY = "svc.trigger.apply"
TRIGGERS_LIST = "svc.trigger.list"
TRIGGERS_GET = "svc.trigger.get"
TRIGGERS_ENABLE = "svc.trigger.enable"
TRIGGERS_FIRE = "svc.trigger.fire"
TRIGGERS_HISTORY = "svc.trigger.history"
TRIGGERS_TEST = "svc.trigger.test"
MONITORS_POINTS = "svc.trigger.points"


class ApplySpec(BaseModel):
    text: str = Field(description="The YAML spec (kind: trigger or kind: monitor).")
    kind: str | None = Field(None, description="The kind the spec must be, if any.")


class Named(BaseModel):
    name: str
    kind: str = Field("trigger", pattern="^(trigger|monitor)$")
    limit: int = Field(50, ge=1, le=1000)


class Enable(Named):
    enabled: bool


class Fire(BaseModel):
    name: str
    params: dict[str, Any] = Field(default_factory=dict, description="Override target params.")


class DryRun(BaseModel):
    text: str = Field(description="A trigger spec that need not be applied.")
    since_s: float = Field(86400, gt=0, description="Replay events of this last period.")
