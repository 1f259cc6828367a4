"""The parts of a run that events and query answers share: its cause, resources, inputs,
outputs, artifacts, log lines and what it used.

Apart from the event catalog (and importing nothing of it), so a client reading runs, such
as `boxops runs list`, need not build every event model at start-up.
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.storable import ByteCount


class Cause(BaseModel):
    """Why a run was requested."""

    model_config = ConfigDict(extra="ignore")

    kind: Literal["manual", "schedule", "event"] = Field("manual", description="What started it.")
    trigger: str | None = Field(None, description="Name of the trigger that fired, if any.")
    event_id: str | None = Field(None, description="Id of the event that caused it, if any.")
    subject: str | None = Field(None, description="Subject of the event that caused it, if any.")
    monitor: str | None = Field(
        None, description="Monitor whose threshold event caused it, if any."
    )
    tick: datetime | None = Field(None, description="Schedule tick (UTC) that caused it.")
    user: str | None = Field(None, description="Who asked, for manual runs.")
    retry_of: str | None = Field(None, description="Run this one retries, if any.")
    depth: int = Field(0, ge=0, description="Length of the trigger chain that led here.")


class Resources(BaseModel):
    """What a run needs, or what an executor offers."""

    model_config = ConfigDict(extra="ignore")

    cpu: float = Field(1.0, ge=0, allow_inf_nan=False, description="CPU cores.")
    memory_mb: int = Field(512, ge=0, description="Memory in MiB.")
    gpu: int = Field(0, ge=0, description="GPUs.")
    pids: int = Field(
        4096, ge=16, description="Processes and threads at most (the docker backend's limit)."
    )


class FileEntry(BaseModel):
    """One file of a dataset version, model version or output, stored by digest."""

    path: str = Field(description="Relative path, '/'-separated.")
    size: ByteCount = Field(description="Bytes.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Content digest (blob id).")


class InputRef(BaseModel):
    """A resolved input of a run: exactly which version it read."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["dataset", "model", "file"] = Field(description="What kind of input.")
    name: str = Field(description="Dataset or model name, or the file's blob id.")
    version: int | None = Field(None, description="Version number, for datasets and models.")
    uri: str | None = Field(None, description="Where it lives (external datasets).")
    digest: str | None = Field(None, description="Content digest of the version.")
    files: list[FileEntry] = Field(default_factory=list, description="Files to materialise.")
    run_id: str | None = Field(None, description="Run whose output it is (pipeline wiring).")


class RunOutput(BaseModel):
    """What a run wrote under $BOXOPS_OUTPUTS/<name>, as uploaded by the executor."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["dataset", "model", "file", "metrics"] = Field(description="Declared kind.")
    name: str | None = Field(None, description="Dataset or model name to record it under.")
    files: list[FileEntry] = Field(default_factory=list, description="Uploaded files.")
    metrics: dict[str, float] = Field(default_factory=dict, description="For metrics outputs.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Extracted metadata.")


class RunArtifact(BaseModel):
    """A file a run logged through the SDK (a DataFrame, an array, a curve…), as uploaded."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(description="Name the run gave it.")
    kind: str = Field(
        description="file, dataframe, array, json, confusion_matrix, curve or sdk_buffer."
    )
    path: str = Field(description="Relative path within the run's artifacts.")
    size: ByteCount = Field(description="Bytes.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Content digest (blob id).")
    media_type: str = Field("application/octet-stream", description="Content type.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Preview and shape.")


class LogLine(BaseModel):
    t: datetime = Field(description="When the line was read.")
    stream: Literal["stdout", "stderr"] = Field(description="Which stream.")
    line: str = Field(description="The line, without its newline.")


class RunUsage(BaseModel):
    """What a run's processes used, sampled while it ran (the `system/` metrics' summary)."""

    model_config = ConfigDict(extra="ignore")

    peak_rss_mb: float = Field(0.0, description="Highest sampled RSS of its process tree, MiB.")
    last_rss_mb: float = Field(0.0, description="RSS at the last sample before its end, MiB.")
    cpu_seconds: float = Field(
        0.0, description="CPU time of its processes (user + system), up to the last sample."
    )
    io_read_mb: float = Field(0.0, description="Bytes its processes read from storage, MiB.")
    io_write_mb: float = Field(0.0, description="Bytes its processes wrote to storage, MiB.")
    samples: int = Field(0, description="How many samples these come from.")
    gpu_seconds: float | None = Field(None, description="GPU time (with GPUs).")
    peak_gpu_memory_mb: float | None = Field(None, description="Peak GPU memory (with GPUs).")
    oom_killed: bool = Field(False, description="Killed for running out of memory.")


class DeviceState(BaseModel):
    """One GPU an executor offers, and the run holding it."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(description="Its id, as CUDA_VISIBLE_DEVICES names it.")
    uuid: str = Field("", description="NVML's UUID, where known.")
    name: str = Field("", description="Model name, where known.")
    memory_mb: int = Field(0, ge=0, description="Memory, MiB, where known.")
    run_id: str | None = Field(None, description="The run holding it; None: free.")
