"""Request/reply contracts: what services answer over NATS and the gateway returns."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from shared.events import Cause, Resources

RUNS_GET = "svc.scheduler.runs.get"
# Registry lookups: body RefQuery; result the record as JSON (see services/registry).
COMPONENT_GET = "svc.registry.components.get"  # NAME[@VERSION] → spec + version + digest
PIPELINE_GET = "svc.registry.pipelines.get"  # NAME[@VERSION] → spec + resolved components
DATASET_VERSION_GET = "svc.registry.datasets.version"  # NAME[@VERSION] (latest if none)
MODEL_VERSION_GET = "svc.registry.models.version"  # NAME@VERSION | NAME@ALIAS
RUNS_LIST = "svc.scheduler.runs.list"


def health_subject(service: str) -> str:
    return f"svc.{service}.health"


class TransitionView(BaseModel):
    state: str = Field(description="Public state after the transition.")
    substate: str | None = Field(None, description="Recorded sub-state.")
    at: datetime = Field(description="When it happened.")
    reason: str = Field("", description="Why.")


class RunView(BaseModel):
    id: str
    state: str = Field(description="pending, running, completed, failed or aborted.")
    substate: str | None = None
    command: list[str]
    env: dict[str, str] = Field(default_factory=dict)
    resources: Resources = Field(default_factory=Resources)
    priority: int = 0
    cause: Cause = Field(default_factory=Cause)
    executor_id: str | None = None
    exit_code: int | None = None
    error: str = ""
    created_at: datetime
    history: list[TransitionView] = Field(default_factory=list)


class RefQuery(BaseModel):
    ref: str = Field(description="NAME, NAME@VERSION or NAME@ALIAS.")


class RunGet(BaseModel):
    run_id: str


class RunList(BaseModel):
    state: str | None = None
    limit: int = Field(50, ge=1, le=1000)
    before: datetime | None = None


class Reply(BaseModel):
    """Every query reply: a result, or an error with an HTTP-like status."""

    ok: bool = True
    status: int = 200
    error: str = ""
    result: Any = None
