"""The executors the scheduler has heard from, with their GPUs free and busy."""

from typing import Any

from fastapi import APIRouter, Request

from services.gateway.ask import ask
from services.gateway.json_bodies import JsonRoute
from services.gateway.scopes import Scope, needs
from shared.queries import EXECUTORS_LIST, ExecutorList, ExecutorView

router = APIRouter(route_class=JsonRoute, tags=["executors"])


@router.get("/executors", response_model=list[ExecutorView])
@needs(Scope.READ)
async def list_executors(request: Request) -> Any:
    """Each executor as its last heartbeat showed it: alive, capacity, runs and devices."""
    return await ask(request, EXECUTORS_LIST, ExecutorList())
