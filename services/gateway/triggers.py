"""/v1/triggers and /v1/monitors: apply specs, list, show, enable, fire, history, dry run."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request

from services.gateway.ask import ask
from services.gateway.json_bodies import JsonRoute
from services.gateway.names import checked
from services.gateway.scopes import Scope, needs
from shared.durations import seconds
from shared.queries import (
    MONITORS_POINTS,
    TRIGGERS_APPLY,
    TRIGGERS_ENABLE,
    TRIGGERS_FIRE,
    TRIGGERS_GET,
    TRIGGERS_HISTORY,
    TRIGGERS_LIST,
    TRIGGERS_TEST,
    ApplySpec,
    DryRun,
    Enable,
    Fire,
    Named,
)

router = APIRouter(route_class=JsonRoute, tags=["triggers and monitors"])
TriggerName = Annotated[str, Depends(checked("trigger"))]
MonitorName = Annotated[str, Depends(checked("monitor"))]
SpecText = Annotated[str, Body(media_type="application/yaml", description="The YAML spec.")]


@router.post("/triggers/test")
@needs(Scope.READ)
async def dry_run(
    text: SpecText, request: Request, since: Annotated[str, Query(description="e.g. 24h")] = "24h"
) -> Any:
    """Replay the stored events of the last period against a trigger that is not applied."""
    try:
        since_s = seconds(since)
        if since_s <= 0:
            raise ValueError("a period longer than 0 s")
    except ValueError as err:
        raise HTTPException(422, f"since: {err}") from None
    return await ask(request, TRIGGERS_TEST, DryRun(text=text, since_s=since_s))


@router.post("/triggers/{name}/fire", status_code=202)
@needs(Scope.RUN)
async def fire(
    name: TriggerName, request: Request, params: Annotated[dict[str, Any] | None, Body()] = None
) -> Any:
    """Fire by hand; params given here override the trigger's."""
    return await ask(request, TRIGGERS_FIRE, Fire(name=name, params=params or {}))


@router.get("/monitors/{name}/points")
@needs(Scope.READ)
async def points(
    name: MonitorName, request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 500
) -> Any:
    """The newest points the monitor saw (`at`, `value`, `run_id`), oldest first."""
    return await ask(request, MONITORS_POINTS, Named(name=name, kind="monitor", limit=limit))


def _routes(kind: str) -> None:
    """The same routes for /v1/triggers and /v1/monitors."""
    plural = f"/{kind}s"
    Name = Annotated[str, Depends(checked(kind))]

    @router.post(plural, name=f"apply_{kind}")
    @needs(Scope.WRITE)
    async def apply(text: SpecText, request: Request) -> Any:
        """Create or update from a YAML (or JSON) spec; an unchanged spec keeps its version."""
        return await ask(request, TRIGGERS_APPLY, ApplySpec(text=text, kind=kind))

    @router.get(plural, name=f"list_{kind}s")
    @needs(Scope.READ)
    async def listing(request: Request) -> Any:
        return await ask(request, TRIGGERS_LIST, Named(name="*", kind=kind))

    @router.get(plural + "/{name}", name=f"show_{kind}")
    @needs(Scope.READ)
    async def show(name: Name, request: Request) -> Any:
        return await ask(request, TRIGGERS_GET, Named(name=name, kind=kind))

    @router.post(plural + "/{name}/enable", name=f"enable_{kind}")
    @needs(Scope.WRITE)
    async def enable(name: Name, request: Request) -> Any:
        return await ask(request, TRIGGERS_ENABLE, Enable(name=name, kind=kind, enabled=True))

    @router.post(plural + "/{name}/disable", name=f"disable_{kind}")
    @needs(Scope.WRITE)
    async def disable(name: Name, request: Request) -> Any:
        return await ask(request, TRIGGERS_ENABLE, Enable(name=name, kind=kind, enabled=False))

    @router.get(plural + "/{name}/history", name=f"{kind}_history")
    @needs(Scope.READ)
    async def history(
        name: Name, request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 50
    ) -> Any:
        """Firings (with event ids, run ids and reasons), or a monitor's crossings."""
        return await ask(request, TRIGGERS_HISTORY, Named(name=name, kind=kind, limit=limit))


_routes("trigger")
_routes("monitor")
