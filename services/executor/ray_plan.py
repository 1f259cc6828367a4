"""A run as a Ray Job, and a Ray cluster as capacity: pure logic.

The executor submits an attempt as one Ray Job whose submission id is derived from the run
and attempt (`submission_id`), so a later life of the executor finds the job it started
instead of starting it twice. The job's entrypoint is the boxops launcher
(`services/executor/ray_launcher.py`), which talks back through lines on the job's log:

    ::boxops-begin            the launcher runs; what Ray printed before it is Ray's
    ::boxops-stderr <line>    a line the run printed on stderr (Ray merges the streams)
    ::boxops-ended <json>     the run's end: its exit code and what it uploaded (`Ended`)
"""

import json
import math
import shlex
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from shared.events import FileEntry, RunArtifact, RunDispatched
from shared.run_parts import Resources

MIB = 1024 * 1024
LAUNCHER = "services.executor.ray_launcher"
RUN_VARIABLE = "BOXOPS_RAY_RUN"  # the launcher's payload (`Payload`), as JSON
BEGIN = "::boxops-begin"
STDERR = "::boxops-stderr "
ENDED = "::boxops-ended "
NOT_INSTALLED = (
    "boxops: boxops is not installed on this Ray node: install it on every node "
    '(pip install "boxops[ray]") or in the cluster\'s image'
)
# Resources every Ray node has, or that only name a node: not offered as custom resources.
BUILT_IN = frozenset({"CPU", "GPU", "memory", "object_store_memory"})
NAMING = ("node:", "accelerator_type:")


def submission_id(run_id: str, attempt: int) -> str:
    """The Ray Job of one attempt: the same for every life of every executor."""
    if not run_id or attempt < 1:
        raise ValueError(f"no Ray job for run {run_id!r} attempt {attempt}")
    return f"boxops-{run_id}-{attempt}"


def entrypoint_options(resources: Resources, gpu_resource: str = "GPU") -> dict[str, Any]:
    """The job's entrypoint resources; `gpu_resource` is the cluster's name for a GPU
    (Ray's own `GPU`, or a custom resource such as `fakegpu`)."""
    options: dict[str, Any] = {}
    if resources.cpu:
        options["entrypoint_num_cpus"] = resources.cpu
    if resources.memory_mb:
        options["entrypoint_memory"] = resources.memory_mb * MIB
    if resources.gpu and gpu_resource == "GPU":
        options["entrypoint_num_gpus"] = resources.gpu
    elif resources.gpu:
        options["entrypoint_resources"] = {gpu_resource: float(resources.gpu)}
    return options


@dataclass(frozen=True)
class Capacity:
    """What the cluster's alive nodes offer together."""

    resources: Resources
    custom: dict[str, float] = field(default_factory=dict)
    nodes: int = 0


def capacity(nodes: list[dict[str, Any]], gpu_resource: str = "GPU") -> Capacity:
    """The sum over alive nodes of Ray's node listing (`resources_total` each)."""
    totals: dict[str, float] = {}
    alive = [node for node in nodes if isinstance(node, dict) and node.get("state") == "ALIVE"]
    for node in alive:
        for name, amount in (node.get("resources_total") or {}).items():
            if isinstance(amount, (int, float)) and math.isfinite(amount) and amount > 0:
                totals[str(name)] = totals.get(str(name), 0.0) + float(amount)
    resources = Resources(
        cpu=totals.get("CPU", 0.0),
        memory_mb=int(totals.get("memory", 0.0) // MIB),
        gpu=int(totals.get(gpu_resource, 0.0)),
    )
    custom = {
        name: amount
        for name, amount in sorted(totals.items())
        if name not in BUILT_IN and name != gpu_resource and not name.startswith(NAMING)
    }
    return Capacity(resources, custom, len(alive))


class Payload(BaseModel):
    """What the launcher on the node is handed: the run and how to reach the platform."""

    run: RunDispatched
    api_url: str = ""
    run_token: str = ""  # the run's own SDK token, passed on to the black box
    artifact_token: str = ""  # fetches inputs and stores outputs; never shown to the run


class UploadedOutput(BaseModel):
    files: list[FileEntry] = Field(default_factory=list)
    metrics: dict[str, float] = Field(default_factory=dict)  # of a `metrics` output's JSON


class Ended(BaseModel):
    """The launcher's last line: how the run ended on the node."""

    exit_code: int | None = None  # None: it did not run (an input, the contract)
    reason: str = ""
    outputs: dict[str, UploadedOutput] = Field(default_factory=dict)
    artifacts: list[RunArtifact] = Field(default_factory=list)
    refused: str | None = None  # an output that must not be uploaded, and why


def entrypoint(python: str) -> str:
    """The job's shell command: the launcher, or one clear line when the node lacks it."""
    check = (
        "import importlib.util, runpy, sys\n"
        f"if importlib.util.find_spec({'services.executor'!r}) is None or "
        f"importlib.util.find_spec({LAUNCHER!r}) is None:\n"
        f"    sys.exit({NOT_INSTALLED!r})\n"
        f"runpy.run_module({LAUNCHER!r}, run_name='__main__')\n"
    )
    return f"{shlex.quote(python)} -c {shlex.quote(check)}"


def ended_of(lines: list[str]) -> Ended | None:
    """The launcher's end line among the job's log lines (the last one wins)."""
    for line in reversed(lines):
        if line.startswith(ENDED):
            try:
                return Ended.model_validate_json(line[len(ENDED) :])
            except ValueError:
                return None
    return None


def boxops_reason(lines: list[str]) -> str | None:
    """The last `boxops: …` line the job printed (the launcher's own words), if any."""
    for line in reversed(lines):
        if line.startswith("boxops: "):
            return line.removeprefix("boxops: ")
    return None


def payload_env(payload: Payload) -> dict[str, str]:
    return {RUN_VARIABLE: payload.model_dump_json()}


def run_lines(text: str) -> list[str]:
    """The job's log from the launcher's first line on (Ray's own set-up lines dropped);
    all of it if the launcher never began (Ray's lines then say why)."""
    lines = text.splitlines()
    if BEGIN in lines:
        return lines[lines.index(BEGIN) + 1 :]
    return lines


def dumps_ended(ended: Ended) -> str:
    return ENDED + json.dumps(ended.model_dump(mode="json"), separators=(",", ":"))
