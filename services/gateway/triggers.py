"""/v1/triggers and /v1/monitors: apply specs, list, show, enable, fire, history, dry run."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, Request

from services.gateway.ask import ask
from shared.durations import seconds
from shared.queries import (
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

router = APIRouter(tags=["triggers and monitors"])
KIND = "{kind:triggers|monitors}"
SpecText = Annotated[str, Body(media_type="application/yaml", description="The YAML spec.")]


def _kind(kind: str) -> str:
    return kind.removesuffix("s")


@router.post(f"/{KIND}", status_code=200)
async def apply(kind: str, text: SpecText, request: Request) -> Any:
    """Create or update from a YAML (or JSON) spec; unchanged specs keep their version."""
    return await ask(request, TRIGGERS_APPLY, ApplySpec(text=text, kind=_kind(kind)))


@router.post("/triggers/test")
async def dry_run(
    text: SpecText, request: Request, since: Annotated[str, Query(description="e.g. 24h")] = "24h"
) -> Any:
    """Replay the stored events of the last period against a trigger that is not applied."""
    try:
        since_s = seconds(since)
    except ValueError as err:
        raise HTTPException(422, f"since: {err}") from None
    return await ask(request, TRIGGERS_TEST, DryRun(text=text, since_s=since_s))


@router.get(f"/{KIND}")
async def listing(kind: str, request: Request) -> Any:
    return await ask(request, TRIGGERS_LIST, Named(name="*", kind=_kind(kind)))


@router.get(f"/{KIND}/{{name}}")
async def show(kind: str, name: str, request: Request) -> Any:
    return await ask(request, TRIGGERS_GET, Named(name=name, kind=_kind(kind)))


@router.post(f"/{KIND}/{{name}}/{{action:enable|disable}}")
async def enable(kind: str, name: str, action: str, request: Request) -> Any:
    query = Enable(name=name, kind=_kind(kind), enabled=action == "enable")
    return await ask(request, TRIGGERS_ENABLE, query)


@router.get(f"/{KIND}/{{name}}/history")
async def history(
    kind: str, name: str, request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 50
) -> Any:
    """Firings (with event ids, run ids and reasons), or a monitor's crossings."""
    return await ask(request, TRIGGERS_HISTORY, Named(name=name, kind=_kind(kind), limit=limit))


@router.post("/triggers/{name}/fire", status_code=202)
async def fire(
    name: str, request: Request, params: Annotated[dict[str, Any] | None, Body()] = None
) -> Any:
    """Fire by hand; params given here override the trigger's."""
    return await ask(request, TRIGGERS_FIRE, Fire(name=name, params=params or {}))
