"""/v1/sdk/runs/{run_id}/…: what the SDK inside a running black box sends.

Accepts the run-scoped token the executor gave that run (or the API token); a run's token
opens only that run's routes. Metric points are published as `metric.logged` in batches,
every publish sent before any ack is awaited, and the reply comes once all are stored.
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from shared.batch_publish import publish_many
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
    labels = {**body.labels, "run_id": run_id}
    received = now()
    envelopes = [
        bus.envelope(
            MetricLogged.model_construct(  # already validated as a Point: no second pass
                name=p.name,
                value=p.value,
                step=p.step,
                run_id=run_id,
                at=p.at or received,
                labels=labels,
            ),
            id=f"{run_id}-{p.id}",
        )
        for p in body.points
    ]
    await publish_many(bus, envelopes)  # type: ignore[arg-type]
    return Recorded(recorded=len(envelopes))
