"""The registry's HTTP face: /v1/datasets, /v1/models, /v1/components, /v1/pipelines,
/v1/lineage. Every route asks the registry over NATS and returns its answer."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from services.gateway import datasets, models, specs
from services.gateway.ask import ask
from services.gateway.json_bodies import JsonRoute
from services.gateway.names import DatasetName, ModelName
from services.gateway.scopes import Scope, needs
from shared.registry_api import LINEAGE_GET, LineageQuery, LineageView

router = APIRouter(route_class=JsonRoute)
lineage = APIRouter(route_class=JsonRoute, tags=["lineage"])
Depth = Annotated[int, Query(ge=1, le=50, description="Edges to follow each way.")]


@lineage.get("/lineage/datasets/{name}/{ref}", response_model=LineageView)
@needs(Scope.READ)
async def dataset_lineage(name: DatasetName, ref: str, request: Request, depth: Depth = 5) -> Any:
    """Upstream (what it came from) and downstream (what came from it) of a dataset version."""
    return await ask(request, LINEAGE_GET, LineageQuery(node=f"dataset:{name}@{ref}", depth=depth))


@lineage.get("/lineage/models/{name}/{ref}", response_model=LineageView)
@needs(Scope.READ)
async def model_lineage(name: ModelName, ref: str, request: Request, depth: Depth = 5) -> Any:
    """The same for a model version (or alias)."""
    return await ask(request, LINEAGE_GET, LineageQuery(node=f"model:{name}@{ref}", depth=depth))


@lineage.get("/lineage/runs/{run_id}", response_model=LineageView)
@needs(Scope.READ)
async def run_lineage(run_id: str, request: Request, depth: Depth = 5) -> Any:
    """What a run read and what it wrote, and further up and down."""
    return await ask(request, LINEAGE_GET, LineageQuery(node=f"run:{run_id}", depth=depth))


for module in (datasets, models, specs):
    router.include_router(module.router)
router.include_router(lineage)
