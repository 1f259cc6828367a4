"""The event catalog: one pydantic model per subject.

Contracts evolve additively: new fields are optional, nothing is renamed, unknown
fields are ignored. `proto/` is generated from this module (`python -m shared.proto`).
"""

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, NotRequired

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict  # pydantic takes typing.TypedDict from 3.12 on

from shared import storable
from shared.names import BadName, check_name
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
from shared.runs import RunState, RunSubstate
from shared.storable import Instant, Int32, Text
from shared.uris import UriError, parse_uri


class Event(BaseModel):
    """Base of every event body; `subject` is where it is published."""

    model_config = ConfigDict(extra="ignore")

    subject: ClassVar[str]
    summary: ClassVar[str] = ""

    def nats_subject(self) -> str:
        return self.subject


class DeclaredOutput(BaseModel):
    """An output a component declares; the executor uploads what the run writes there."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["dataset", "model", "file", "metrics"] = Field(description="Declared kind.")
    name: str | None = Field(None, description="Dataset or model name to record it under.")


class RunRequest(BaseModel):
    """What a run is asked to do; `run.requested` adds who asks and why, and the gateway's
    POST /v1/runs takes exactly these fields."""

    model_config = ConfigDict(extra="ignore")

    command: list[str] | None = Field(
        None, min_length=1, description="Inline command and arguments (ad-hoc run)."
    )
    component: str | None = Field(
        None, min_length=1, description="Component reference NAME[@VERSION]."
    )
    pipeline: str | None = Field(
        None, min_length=1, description="Pipeline reference NAME[@VERSION]."
    )
    params: dict[str, Any] = Field(default_factory=dict, description="Run parameters.")
    inputs: dict[str, str] = Field(
        default_factory=dict, description="Input → NAME[@VERSION], NAME@ALIAS or a blob id."
    )
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables.")
    # None, not a default: bodies drop nulls but keep defaults, so only None still says
    # "not asked" after the wire, and a component's own resources apply.
    resources: Resources | None = Field(
        None, description="Resources needed (a component's own, or the defaults, if absent)."
    )
    priority: int = Field(
        0, ge=storable.INT32_MIN, le=storable.INT32_MAX, description="Higher runs first."
    )
    timeout_s: float | None = Field(None, gt=0, description="Stop the run after this long.")
    retries: int | None = Field(None, ge=0, le=20, description="Retries after a failure.")
    retry_backoff_s: float | None = Field(None, ge=0, description="First retry delay; doubles.")
    concurrency_key: str | None = Field(None, description="Runs sharing a key share a limit.")
    max_concurrency: int | None = Field(
        None, ge=1, le=storable.INT32_MAX, description="Limit of active runs per key."
    )
    selector: dict[str, str] = Field(
        default_factory=dict, description="Labels an executor must have to take the run."
    )

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        """Accepted means recorded: nothing a database would refuse gets past the edge."""
        problem = storable.problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _one_target(self) -> "RunRequest":
        targets = [t for t in (self.command, self.component, self.pipeline) if t]
        if len(targets) != 1:
            raise ValueError("give exactly one of command, component or pipeline")
        return self


class RunRequested(RunRequest, Event):
    subject = "run.requested"
    summary = "A command: start a run of an inline command, a component or a pipeline."

    run_id: str | None = Field(None, description="Id to give the run; the event id if absent.")
    cause: Cause = Field(default_factory=Cause, description="Why the run was requested.")


class RunAbortRequested(Event):
    subject = "run.abort.requested"
    summary = "A command: stop a run."

    run_id: str = Field(description="Run to abort.")
    reason: str = Field("aborted by user", description="Why.")


class RunTransition(Event):
    """A change of a run's state, published only by the scheduler."""

    run_id: str = Field(description="The run.")
    state: RunState = Field(description="Public state after the transition.")
    # A str, not RunSubstate: sub-states may be added without breaking older consumers.
    substate: str | None = Field(
        None, description=f"Recorded sub-state: {', '.join(RunSubstate)}, or one added later."
    )
    at: datetime = Field(description="When the scheduler recorded it.")
    reason: str = Field("", description="Why the transition happened.")


class RunPending(RunTransition):
    subject = "run.pending"
    summary = "The scheduler accepted a run; it waits for inputs or resources."


class RunDispatched(RunTransition):
    subject = "run.dispatched"
    summary = "A run was placed on an executor; published on run.dispatched.<executor_id>."

    executor_id: str = Field(description="Executor that must start it.")
    command: list[str] = Field(description="Command to run, params already rendered.")
    template: list[str] | None = Field(
        None,
        description="The component's command as written: the executor fills its params, run "
        "id, inputs and outputs in one pass, so a filled-in value is never read as a "
        "placeholder again. None for an inline command.",
    )
    env: dict[str, str] = Field(default_factory=dict, description="Environment to add.")
    resources: Resources = Field(default_factory=Resources, description="Resources granted.")
    attempt: int = Field(1, ge=1, description="1 for the first try, 2 for the first retry…")
    params: dict[str, Any] = Field(default_factory=dict, description="Resolved params.")
    inputs: dict[str, InputRef] = Field(default_factory=dict, description="Resolved inputs.")
    outputs: dict[str, DeclaredOutput] = Field(
        default_factory=dict, description="Declared outputs."
    )
    image: str | None = Field(None, description="Container image (docker backend).")
    backend: str = Field("local", description="Executor backend: local, docker or ray.")
    network: bool = Field(False, description="Network access (docker backend).")
    timeout_s: float | None = Field(None, description="The scheduler stops it after this long.")
    component: str | None = Field(None, description="Component NAME@VERSION, if any.")
    pipeline: str | None = Field(None, description="Pipeline NAME@VERSION of a step run.")
    step: str | None = Field(None, description="Step name, for a pipeline's step run.")

    def labels(self) -> dict[str, str]:
        """What the run's metrics are labelled with, so monitors can pick them out."""
        labels = {"run_id": self.run_id}
        for kind in ("component", "pipeline"):
            ref = getattr(self, kind)
            if ref:
                labels[kind] = ref.split("@")[0]
                labels[f"{kind}_ref"] = ref
        if self.step:
            labels["step"] = self.step
        return labels

    def nats_subject(self) -> str:
        return f"{self.subject}.{self.executor_id}"


class RunStopRequested(Event):
    subject = "run.stop.requested"
    summary = "The scheduler asks an executor to stop a run; on run.stop.requested.<executor>."

    run_id: str = Field(description="The run.")
    executor_id: str = Field(description="Executor running it.")
    reason: str = Field(description="Why: 'aborted by user', 'timeout after 600 s'.")
    grace_s: float = Field(10.0, ge=0, description="Seconds between SIGTERM and SIGKILL.")
    attempt: int | None = Field(
        None, ge=1, description="The attempt to stop; None: whichever of the run's it runs."
    )

    def nats_subject(self) -> str:
        return f"{self.subject}.{self.executor_id}"


class RunRunning(RunTransition):
    subject = "run.running"
    summary = "The run's process started."

    executor_id: str = Field(description="Executor running it.")


class RunCompleted(RunTransition):
    subject = "run.completed"
    summary = "The run ended successfully."

    exit_code: int = Field(0, description="Process exit code.")
    outputs: dict[str, RunOutput] = Field(default_factory=dict, description="Declared outputs.")
    inputs: dict[str, InputRef] = Field(default_factory=dict, description="Resolved inputs.")
    component: str | None = Field(None, description="Component NAME@VERSION, if any.")
    pipeline: str | None = Field(None, description="Pipeline NAME@VERSION, if any.")
    parent_run_id: str | None = Field(None, description="Pipeline run of a step run.")
    metrics: dict[str, float] = Field(default_factory=dict, description="Last value per metric.")
    artifacts: list[RunArtifact] = Field(
        default_factory=list, description="Artifacts the run logged through the SDK."
    )


class RunFailed(RunTransition):
    subject = "run.failed"
    summary = "The run ended in failure, or could not be started."

    exit_code: int | None = Field(None, description="Process exit code, if it ran.")
    error: str = Field("", description="Last lines of stderr or the error.")
    component: str | None = Field(None, description="Component NAME@VERSION, if any.")
    pipeline: str | None = Field(None, description="Pipeline NAME@VERSION, if any.")
    parent_run_id: str | None = Field(None, description="Pipeline run of a step run.")


class RunAborted(RunTransition):
    subject = "run.aborted"
    summary = "The run was stopped on request."


class ExecutorRunStarted(Event):
    subject = "executor.run.started"
    summary = "Executor report: the run's process started."

    run_id: str = Field(description="The run.")
    executor_id: str = Field(description="The reporting executor.")
    pid: int | None = Field(None, description="Process id (local backend).")
    at: datetime = Field(description="When the process started.")
    attempt: int | None = Field(None, ge=1, description="The attempt it reports on.")


class ExecutorRunEnded(Event):
    subject = "executor.run.ended"
    summary = "Executor report: the run's process ended."

    run_id: str = Field(description="The run.")
    executor_id: str = Field(description="The reporting executor.")
    exit_code: int | None = Field(None, description="Exit code; None if it never started.")
    attempt: int | None = Field(None, ge=1, description="The attempt it reports on.")
    reason: str = Field("", description="Why it ended, e.g. 'exit code 3' or 'command not found'.")
    stderr_tail: str = Field("", description="Last lines of stderr.")
    at: datetime = Field(description="When the process ended.")
    outputs: dict[str, RunOutput] = Field(default_factory=dict, description="Uploaded outputs.")
    metrics: dict[str, float] = Field(default_factory=dict, description="Last value per metric.")
    provenance: dict[str, Any] = Field(
        default_factory=dict, description="Code provenance: repo, branch, commit, dirty."
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="Params the run logged itself (::param, SDK)."
    )
    tags: dict[str, str] = Field(
        default_factory=dict, description="Tags the run set itself (::tag, SDK)."
    )
    logs: FileEntry | None = Field(
        None, description="Archive of the run's output (JSON lines: t, stream, line)."
    )
    artifacts: list[RunArtifact] = Field(
        default_factory=list, description="Artifacts the run logged through the SDK."
    )
    usage: RunUsage | None = Field(
        None, description="Peaks and totals of what it used; None when it was not sampled."
    )
    devices: list[str] = Field(
        default_factory=list, description="The GPUs it held, as CUDA_VISIBLE_DEVICES named them."
    )


class RunningAttempt(BaseModel):
    """One attempt of a run an executor is running."""

    model_config = ConfigDict(extra="ignore")

    run_id: str = Field(description="The run.")
    attempt: int = Field(ge=1, description="Its attempt: 1 for the first try, 2 for a retry…")


class ExecutorHeartbeat(Event):
    subject = "executor.heartbeat"
    summary = "An executor is alive; its capacity and what it runs."

    executor_id: str = Field(description="The executor.")
    backends: list[str] = Field(default_factory=lambda: ["local"], description="Backends offered.")
    capacity: Resources = Field(default_factory=Resources, description="Total resources.")
    slots: int = Field(4, ge=0, description="How many runs it takes at once.")
    running: list[str] = Field(default_factory=list, description="Runs it is running.")
    attempts: list[RunningAttempt] | None = Field(
        None,
        description="The attempts it is running, run and attempt each; None: not said (an"
        " executor from before attempts were listed), its `running` runs' attempts.",
    )
    stopping: bool = Field(
        False, description="It is shutting down: it takes no new run, and no run is placed on it."
    )
    labels: dict[str, str] = Field(default_factory=dict, description="Placement labels.")
    at: datetime = Field(description="When it was sent.")
    interval_s: float | None = Field(
        None, gt=0, description="Seconds until its next heartbeat; None: the default, 1 s."
    )
    devices: list[DeviceState] = Field(
        default_factory=list, description="Its GPUs, each free or held by a run."
    )


class LogChunk(Event):
    subject = "log"
    summary = "Lines a run printed; published on log.<run_id>."

    run_id: str = Field(description="The run.")
    seq: int = Field(ge=0, description="Chunk number within the run, from 0.")
    lines: list[LogLine] = Field(description="Lines in the order they were read.")

    def nats_subject(self) -> str:
        return f"{self.subject}.{self.run_id}"


class DatasetChanges(BaseModel):
    """What a dataset version changed against the version before it (None: not known)."""

    model_config = ConfigDict(extra="ignore")

    files_added: int | None = Field(None, ge=0, description="Files the previous version lacked.")
    files_removed: int | None = Field(None, ge=0, description="Files no longer present.")
    files_modified: int | None = Field(None, ge=0, description="Files whose content changed.")
    added: list[str] = Field(default_factory=list, description="Added paths (the first 100).")
    removed: list[str] = Field(default_factory=list, description="Removed paths (the first 100).")
    modified: list[str] = Field(default_factory=list, description="Modified paths (the first 100).")
    bytes_delta: int | None = Field(None, description="Change of the total size in bytes.")
    rows_delta: int | None = Field(None, description="Change of the row count, where known.")


class DatasetCreated(Event):
    subject = "dataset.created"
    summary = "A dataset name was registered."

    dataset: str = Field(min_length=1, description="Dataset name.")
    type: str = Field("other", description="table, image, audio, video, text or other.")
    description: str = Field("", description="What it holds.")
    tags: list[str] = Field(default_factory=list, description="Free-form tags.")


class DatasetVersionCreated(Event):
    subject = "dataset.version.created"
    summary = "A dataset got a new version (recorded by boxops or announced by another system)."

    dataset: str = Field(min_length=1, description="Dataset name.")
    version: int | None = Field(None, description="Version number, once recorded.")
    uri: str | None = Field(None, description="Where the data lives (external versions).")
    digest: str | None = Field(None, description="Content digest, e.g. sha256:….")
    previous_version: int | None = Field(None, description="The version before this one.")
    run_id: str | None = Field(None, description="Run that produced it.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Extracted metadata.")
    managed: bool | None = Field(
        None, description="True if boxops stores the files, False if the data lives at `uri`."
    )
    parents: list[str] = Field(
        default_factory=list, description="Versions it was derived from, as NAME@VERSION."
    )
    changes: DatasetChanges | None = Field(
        None, description="What changed against the previous version, once recorded."
    )

    @field_validator("dataset")
    @classmethod
    def _name(cls, name: str) -> str:
        try:
            return check_name(name, "dataset name")
        except BadName as err:
            raise PydanticCustomError("name", "{reason}", {"reason": str(err)}) from None

    @field_validator("uri")
    @classmethod
    def _uri(cls, uri: str | None) -> str | None:
        try:
            return uri if uri is None else parse_uri(uri).text
        except UriError as err:
            raise PydanticCustomError("uri", "{reason}", {"reason": str(err)}) from None

    @model_validator(mode="after")
    def _recordable(self) -> "DatasetVersionCreated":
        # A version the registry has not numbered yet is another system's announcement:
        # without its uri it cannot be recorded, however often it is read.
        if self.uri is None and self.version is None:
            raise PydanticCustomError(
                "unrecordable", "an announced version needs the uri of its data"
            )
        return self


class ModelVersionCreated(Event):
    subject = "model.version.created"
    summary = "A model got a new version."

    model: str = Field(min_length=1, description="Model name.")
    version: int = Field(ge=1, description="Version number.")
    run_id: str | None = Field(None, description="Run that produced it.")
    metrics: dict[str, float] = Field(default_factory=dict, description="Metrics snapshot.")
    digest: str | None = Field(None, description="Digest of its file manifest, sha256:….")
    format: str | None = Field(None, description="File format, e.g. onnx, pickle, safetensors.")
    framework: str | None = Field(None, description="Framework, e.g. sklearn, pytorch.")
    parents: list[str] = Field(
        default_factory=list, description="Versions it was derived from, as NAME@VERSION."
    )


class ModelAliasSet(Event):
    subject = "model.alias.set"
    summary = "A model alias (production, staging, any name) now points at a version."

    model: str = Field(min_length=1, description="Model name.")
    alias: str = Field(min_length=1, description="Alias name.")
    version: int = Field(ge=1, description="Version the alias points at now.")
    previous_version: int | None = Field(None, description="Version it pointed at before.")


class ComponentRegistered(Event):
    subject = "component.registered"
    summary = "A component version was registered."

    name: str = Field(description="Component name.")
    version: int = Field(ge=1, description="Version number.")
    digest: str = Field(description="Digest of its spec, sha256:….")
    type: str = Field("custom", description="Component type, e.g. training.")


class PipelineRegistered(Event):
    subject = "pipeline.registered"
    summary = "A pipeline version was registered."

    name: str = Field(description="Pipeline name.")
    version: int = Field(ge=1, description="Version number.")
    digest: str = Field(description="Digest of its spec and pinned components, sha256:….")
    components: dict[str, str] = Field(
        default_factory=dict, description="Step → component NAME@VERSION it runs."
    )


class MetricLogged(Event):
    subject = "metric.logged"
    summary = "A metric value from a run or from outside."

    name: Text = Field(min_length=1, description="Metric name.")
    value: float = Field(description="Value.")
    step: Int32 | None = Field(None, description="Step or epoch.")
    run_id: str | None = Field(None, description="Run that logged it, if any.")
    at: Instant | None = Field(None, description="When it was measured.")
    labels: dict[str, str] = Field(default_factory=dict, description="Extra labels.")


class MetricPoint(BaseModel):
    """One point of a `metrics.logged` batch."""

    model_config = ConfigDict(extra="ignore")

    id: str | None = Field(
        None,
        description="Unique among the points of its run: a point sent again is stored once. "
        "Default: the event's id and the point's place in the batch.",
    )
    name: Text = Field(min_length=1, description="Metric name.")
    value: float = Field(description="Value.")
    step: Int32 | None = Field(None, description="Step or epoch.")
    at: Instant | None = Field(None, description="When it was measured.")


class MetricsLogged(Event):
    """Many `metric.logged` points in one message: at tens of thousands of points a
    second, a message per point is what costs, in every producer and consumer."""

    subject = "metrics.logged"
    summary = "A batch of metric values from a run or from outside (same labels for all)."

    points: list[MetricPoint] = Field(min_length=1, description="The points, in order.")
    run_id: str | None = Field(None, description="Run that logged them, if any.")
    labels: dict[str, str] = Field(default_factory=dict, description="Labels of every point.")


class MetricPointDict(TypedDict):
    """A `MetricPoint` as a plain dict: the same fields and checks."""

    id: NotRequired[Text | None]
    name: Annotated[Text, Field(min_length=1)]
    value: float
    step: NotRequired[Int32 | None]
    at: NotRequired[Instant | None]


class MetricsBatch(Event):
    """`metrics.logged` with a dict per point rather than a model object, for the services
    that move and store thousands of points a message (a third of the cost). Its contract
    is MetricsLogged's: not in the catalog."""

    subject = MetricsLogged.subject

    points: list[MetricPointDict] = Field(min_length=1)
    run_id: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)


class ThresholdCrossed(Event):
    monitor: str = Field(description="Monitor that fired.")
    metric: str = Field(description="Metric name.")
    value: float = Field(description="Value that crossed.")
    threshold: float = Field(description="The threshold.")
    run_id: str | None = Field(None, description="Run the metric came from, if any.")


class MetricBelowThreshold(ThresholdCrossed):
    subject = "metric.below_threshold"
    summary = "A monitored metric fell below its threshold."


class MetricAboveThreshold(ThresholdCrossed):
    subject = "metric.above_threshold"
    summary = "A monitored metric rose above its threshold."


class Alert(Event):
    """One alert of a monitoring system's notification (Alertmanager, Grafana): each alert
    of a grouped notification is an event of its own."""

    status: Literal["firing", "resolved"] = Field(description="firing or resolved.")
    source: str = Field(description="Who sent it: alertmanager or grafana.")
    receiver: str = Field(description="The receiver (contact point) that sent it.")
    labels: dict[str, str] = Field(
        default_factory=dict, description="The alert's labels (alertname, severity, …)."
    )
    annotations: dict[str, str] = Field(
        default_factory=dict, description="The alert's annotations (summary, description, …)."
    )
    fingerprint: str = Field(description="The alert's identity, stable while it lasts.")
    starts_at: Instant = Field(description="When it started firing.")
    ends_at: Instant | None = Field(None, description="When it resolved (resolved alerts).")
    generator_url: str | None = Field(None, description="Where it was computed.")
    external_url: str | None = Field(None, description="The sending system's own URL.")
    group_key: str | None = Field(None, description="The notification group it came in.")
    values: dict[str, float] | None = Field(
        None, description="Grafana: the values of the rule's queries and expressions."
    )


class AlertFiring(Alert):
    subject = "alert.firing"
    summary = "An alert of a monitoring system (Alertmanager, Grafana) is firing."


class AlertResolved(Alert):
    subject = "alert.resolved"
    summary = "An alert of a monitoring system (Alertmanager, Grafana) resolved."


class TriggerFired(Event):
    subject = "trigger.fired"
    summary = "A trigger fired and requested a run."

    trigger: str = Field(description="Trigger name.")
    run_id: str | None = Field(None, description="Run requested.")
    cause: Cause = Field(description="What made it fire.")


class ArtifactStored(Event):
    subject = "artifact.stored"
    summary = "A blob was stored (its bytes verified against its sha256), once per content."

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Content digest (blob id).")
    size: int = Field(ge=0, description="Bytes.")
    name: str | None = Field(None, description="File name given at upload.")
    media_type: str | None = Field(None, description="Media type given at upload.")
    preview_kind: str | None = Field(None, description="Kind of preview computed, if any.")


CATALOG: tuple[type[Event], ...] = (
    RunRequested,
    RunAbortRequested,
    RunStopRequested,
    RunPending,
    RunDispatched,
    RunRunning,
    RunCompleted,
    RunFailed,
    RunAborted,
    ExecutorRunStarted,
    ExecutorRunEnded,
    ExecutorHeartbeat,
    LogChunk,
    DatasetVersionCreated,
    ModelVersionCreated,
    MetricLogged,
    MetricsLogged,
    MetricBelowThreshold,
    MetricAboveThreshold,
    AlertFiring,
    AlertResolved,
    TriggerFired,
    DatasetCreated,
    ModelAliasSet,
    ComponentRegistered,
    PipelineRegistered,
    ArtifactStored,
)


_BY_SUBJECT = {model.subject: model for model in CATALOG}

# What systems outside boxops may publish, over HTTP or with ingress credentials: these
# catalog subjects (alerts, which monitoring systems send through the gateway's hooks)
# and custom subjects (under `ext.`, which triggers listen on). Every other subject is the
# platform's own.
PUBLIC: tuple[type[Event], ...] = (
    DatasetVersionCreated,
    MetricLogged,
    MetricsLogged,
    AlertFiring,
    AlertResolved,
)
CUSTOM_PREFIX = "ext."


def is_public(subject: str) -> bool:
    """May a system outside boxops publish on this concrete subject?"""
    return subject in {m.subject for m in PUBLIC} or (
        subject.startswith(CUSTOM_PREFIX) and len(subject) > len(CUSTOM_PREFIX)
    )


_SUFFIXED: tuple[type[Event], ...] = (RunDispatched, RunStopRequested, LogChunk)


def model_for(subject: str) -> type[Event] | None:
    """The contract of a concrete subject (`run.dispatched.ex1` → RunDispatched)."""
    if subject in _BY_SUBJECT:
        return _BY_SUBJECT[subject]
    base, _, suffix = subject.rpartition(".")
    return next((m for m in _SUFFIXED if m.subject == base and suffix), None)
