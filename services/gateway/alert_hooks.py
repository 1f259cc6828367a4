"""/v1/hooks/alertmanager and /v1/hooks/grafana: monitoring systems' alerts in as events.

Each is called with a token of scope `hook` (Alertmanager's `http_config.authorization`,
a Grafana contact point's Authorization header), which opens nothing else. Every alert of
a notification becomes `alert.firing` or `alert.resolved` (and a threshold crossing when it
carries a value and a threshold: alerts.py). An alert the hook published already, in the
last `alert_memory_s`, is not published again: Alertmanager repeats a notification until
its alerts resolve, and a repeat starts no second run.
"""

from datetime import timedelta

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, ValidationError

from services.gateway import hook_store
from services.gateway.alerts import (
    AlertmanagerNotification,
    BadAlert,
    GrafanaNotification,
    Notification,
    Outgoing,
    events_of,
)
from services.gateway.hook_intake import check_rate, publish, refuse
from services.gateway.json_bodies import JsonRoute
from services.gateway.scopes import Scope, needs
from shared.bus import now
from shared.envelope import describe

router = APIRouter(route_class=JsonRoute, prefix="/hooks", tags=["hooks"])
ALERT_HOOKS = ("alertmanager", "grafana")


class Delivered(BaseModel):
    """What a hook made of a delivery."""

    published: list[str] = Field(description="Ids of the events it published.")
    repeated: list[str] = Field(
        default_factory=list, description="Ids of events it had published already: not again."
    )


@router.post("/alertmanager", status_code=202)
@needs(Scope.HOOK)
async def alertmanager(request: Request) -> Delivered:
    """Prometheus Alertmanager's webhook (payload version 4): each alert an event."""
    return await _alerts(request, "alertmanager", AlertmanagerNotification)


@router.post("/grafana", status_code=202)
@needs(Scope.HOOK)
async def grafana(request: Request) -> Delivered:
    """Grafana alerting's webhook contact point: each alert an event."""
    return await _alerts(request, "grafana", GrafanaNotification)


async def _alerts(request: Request, hook: str, model: type[Notification]) -> Delivered:
    check_rate(request, hook)
    body = await request.body()
    try:
        outgoing = events_of(model.model_validate_json(body), hook)
    except ValidationError as err:
        await refuse(request, hook, body, describe(err, hook))
    except BadAlert as err:
        await refuse(request, hook, body, f"{hook}: {err}")
    fresh = await _unseen(request, hook, outgoing)
    published = await publish(request, fresh)
    await _remember(request, hook, published)
    repeated = [item.id for item in outgoing if item.id not in published]
    return Delivered(published=published, repeated=repeated)


async def _unseen(request: Request, hook: str, outgoing: list[Outgoing]) -> list[Outgoing]:
    since = now() - timedelta(seconds=request.app.state.settings.alert_memory_s)
    async with request.app.state.tokens() as session:
        seen = await hook_store.seen(session, hook, [o.id for o in outgoing], since)
    return [item for item in outgoing if item.id not in seen]


async def _remember(request: Request, hook: str, ids: list[str]) -> None:
    """Remembered once published: an alert lost between the two is sent again by its
    sender's next repeat, and JetStream drops a copy it stored already."""
    if not ids:
        return
    at = now()
    memory = timedelta(seconds=request.app.state.settings.alert_memory_s)
    async with request.app.state.tokens() as session:
        await hook_store.remember(session, hook, ids, at, at - memory)
