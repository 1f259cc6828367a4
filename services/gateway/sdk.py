"""/v1/sdk/runs/{run_id}/…: what the SDK inside a running black box sends.

Takes the token the executor gave that run (a run's token opens only its own run's routes),
or an API token with scope `write`. A batch of metric points is published as `metrics.logged`
messages of up to CHUNK points, and the reply comes once JetStream has stored them all.
"""

from typing import Annotated, Any, NotRequired

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from typing_extensions import TypedDict  # pydantic takes typing.TypedDict from 3.12 on

from services.gateway.json_bodies import JsonRoute
from services.gateway.scopes import Scope, needs
from shared.batch_publish import publish_many
from shared.bus import Bus
from shared.events import MetricsBatch
from shared.storable import Instant, Int32, Text

MAX_POINTS = 20_000
CHUNK = 1000  # points per metrics.logged message: at most ~0.5 MB, under NATS's 1 MB

router = APIRouter(route_class=JsonRoute, prefix="/sdk/runs/{run_id}", tags=["sdk"])


class Point(TypedDict):
    """A point as the SDK sends it: checked here, then passed on as it is (a dict: a model
    object per point was half of this route's time)."""

    id: Annotated[
        Text, Field(min_length=1, max_length=200, description="Unique in the run: resent, dropped.")
    ]
    name: Annotated[Text, Field(min_length=1, max_length=200, description="Metric name.")]
    value: Annotated[float, Field(allow_inf_nan=False, description="Value.")]
    step: NotRequired[Annotated[Int32 | None, Field(description="Step or epoch.")]]
    at: NotRequired[Annotated[Instant | None, Field(description="When it was measured.")]]


class Points(BaseModel):
    points: list[Point] = Field(max_length=MAX_POINTS, description="A batch of metric points.")
    labels: dict[str, str] = Field(default_factory=dict, description="Labels of every point.")


class Recorded(BaseModel):
    recorded: int


def _points_schema() -> dict[str, Any]:
    """Points' JSON schema with Point written in place: its `#/$defs/Point` would point
    nowhere in the OpenAPI document, which keeps its schemas under components."""
    schema = Points.model_json_schema()
    schema["properties"]["points"]["items"] = schema.pop("$defs")["Point"]
    return schema


BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _points_schema()}},
    }
}


@router.post("/metrics", response_model=Recorded, openapi_extra=BODY)
@needs(Scope.WRITE, own_run=True)
async def log_metrics(run_id: str, request: Request) -> Recorded:
    """Record a batch of metric points of a run (idempotent per point id)."""
    try:
        # Parsed and checked in one pass from the bytes: twice as fast as FastAPI's json.loads
        # and then validation, and the SDK sends thousands of points a request.
        body = Points.model_validate_json(await request.body())
    except ValidationError as err:
        # Without the input: a body that is not UTF-8 could not be written back as JSON.
        raise RequestValidationError(err.errors(include_input=False)) from None
    bus: Bus = request.app.state.service.bus
    labels = {**body.labels, "run_id": run_id}
    chunks = (body.points[i : i + CHUNK] for i in range(0, len(body.points), CHUNK))
    envelopes = [
        bus.envelope(
            # Not validated again: every point was checked as the request came in.
            MetricsBatch.model_construct(run_id=run_id, labels=labels, points=chunk),  # type: ignore[arg-type]
            # Sent again (a retry), the same id: JetStream drops it as a duplicate.
            id=f"{run_id}-{chunk[0]['id']}-{len(chunk)}",
        )
        for chunk in chunks
    ]
    await publish_many(bus, envelopes)  # type: ignore[arg-type]
    return Recorded(recorded=len(body.points))
