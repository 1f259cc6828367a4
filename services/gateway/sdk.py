"""/v1/sdk/runs/{run_id}/…: what the SDK inside a running black box sends.

Accepts the run-scoped token the executor gave that run (or the API token); a run's token
opens only that run's routes. Metric points are published as `metric.logged` in batches,
every publish sent before any ack is awaited, and the reply comes once all are stored.
"""

import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from shared.batch_publish import publish_messages, same_kind
from shared.bus import Bus, now
from shared.events import MetricLogged
from shared.run_token import valid

bearer = HTTPBearer(auto_error=False)
MAX_POINTS = 20_000


async def run_scoped(
    run_id: str,
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    settings = request.app.state.settings
    given = credentials.credentials if credentials else ""
    if not settings.api_token and not settings.run_token_secret:
        return  # an open gateway (development), like the rest of /v1
    if settings.api_token and given == settings.api_token:
        return
    if valid(settings.run_token_secret, run_id, given):
        return
    raise HTTPException(
        401, f"missing or wrong token for run {run_id}", {"WWW-Authenticate": "Bearer"}
    )


router = APIRouter(prefix="/sdk/runs/{run_id}", tags=["sdk"], dependencies=[Depends(run_scoped)])


class Point(BaseModel):
    id: str = Field(min_length=1, max_length=200, description="Unique per point: resent, dropped.")
    name: str = Field(min_length=1, max_length=200, description="Metric name.")
    value: float = Field(allow_inf_nan=False, description="Value.")
    step: int | None = Field(None, description="Step or epoch.")
    at: datetime | None = Field(None, description="When it was measured.")


class Points(BaseModel):
    points: list[Point] = Field(max_length=MAX_POINTS, description="A batch of metric points.")
    labels: dict[str, str] = Field(default_factory=dict, description="Labels of every point.")


class Recorded(BaseModel):
    recorded: int


@router.post("/metrics", response_model=Recorded)
async def log_metrics(run_id: str, body: Points, request: Request) -> Recorded:
    """Record a batch of metric points of a run (idempotent per point id)."""
    bus: Bus = request.app.state.service.bus
    received = now()
    # A metric.logged body per point, written directly: the points are already validated,
    # and at tens of thousands a second a model per point is most of the cost.
    stamp = same_kind(bus, MetricLogged.subject, MetricLogged.subject, received)
    run, labels = json.dumps(run_id), json.dumps({**body.labels, "run_id": run_id})
    default_at = json.dumps(received.isoformat())
    messages = [
        stamp(
            f"{run_id}-{p.id}",
            (
                f'{{"name":{json.dumps(p.name)},"value":{p.value!r},'
                f'"step":{"null" if p.step is None else p.step},"run_id":{run},'
                f'"at":{json.dumps(p.at.isoformat()) if p.at else default_at},"labels":{labels}}}'
            ).encode(),
        )
        for p in body.points
    ]
    await publish_messages(bus, messages)
    return Recorded(recorded=len(messages))
