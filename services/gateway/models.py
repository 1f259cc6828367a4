"""/v1/models: models, their versions and aliases."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from services.gateway.ask import ask
from services.gateway.created import ask_created
from services.gateway.json_bodies import JsonRoute
from services.gateway.names import ModelName
from services.gateway.scopes import Scope, needs
from shared.events import FileEntry
from shared.queries import MODEL_VERSION_GET, RefQuery
from shared.registry_api import (
    MODEL_ALIAS_SET,
    MODEL_GET,
    MODEL_VERSION_CREATE,
    MODEL_VERSIONS,
    MODELS_LIST,
    AliasSet,
    ListQuery,
    ModelVersionCreate,
    ModelVersionView,
    ModelView,
    NameQuery,
    Page,
    VersionsQuery,
)
from shared.storable import Offset, Text, VersionNumber

router = APIRouter(route_class=JsonRoute, tags=["models"])
Limit = Annotated[int, Query(ge=1, le=1000)]


class ModelVersionBody(BaseModel):
    """Files already in the artifact store, with what is known about them."""

    files: list[FileEntry] = Field(min_length=1)
    format: Text | None = Field(None, description="onnx, pickle, safetensors…")
    framework: Text | None = Field(None, description="sklearn, pytorch…")
    metrics: dict[str, float] = Field(default_factory=dict, description="Metrics snapshot.")
    metadata: dict[str, Any] = Field(default_factory=dict)
    parents: list[Text] = Field(default_factory=list, description="Datasets it was trained on.")
    run_id: Text | None = Field(None, description="Run that produced it.")
    description: Text | None = Field(None, description="Description of the model.")


class AliasBody(BaseModel):
    version: VersionNumber


@router.get("/models", response_model=Page)
@needs(Scope.READ)
async def list_models(
    request: Request,
    limit: Limit = 50,
    offset: Offset = 0,
    prefix: Text | None = None,
    tag: Text | None = None,
) -> Any:
    """Models by name, with latest version, number of versions and aliases."""
    query = ListQuery(limit=limit, offset=offset, prefix=prefix, tag=tag)
    return await ask(request, MODELS_LIST, query)


@router.get("/models/{name}", response_model=ModelView)
@needs(Scope.READ)
async def get_model(name: ModelName, request: Request) -> Any:
    return await ask(request, MODEL_GET, NameQuery(name=name))


@router.get("/models/{name}/versions", response_model=Page)
@needs(Scope.READ)
async def list_versions(
    name: ModelName,
    request: Request,
    limit: Limit = 50,
    offset: Offset = 0,
    digest: Text | None = None,
) -> Any:
    query = VersionsQuery(name=name, limit=limit, offset=offset, digest=digest)
    return await ask(request, MODEL_VERSIONS, query)


@router.post("/models/{name}/versions", response_model=ModelVersionView)
@needs(Scope.WRITE)
async def create_version(
    name: ModelName, body: ModelVersionBody, request: Request, response: Response
) -> Any:
    """Record a version: 201 if new, 200 with the existing one for the same files."""
    create = ModelVersionCreate(model=name, **body.model_dump())
    return await ask_created(request, response, MODEL_VERSION_CREATE, create)


@router.get("/models/{name}/versions/{ref}", response_model=ModelVersionView)
@needs(Scope.READ)
async def get_version(name: ModelName, ref: str, request: Request) -> Any:
    """A version by number, by alias (`production`) or `latest`."""
    return await ask(request, MODEL_VERSION_GET, RefQuery(ref=f"{name}@{ref}"))


@router.put("/models/{name}/aliases/{alias}", response_model=ModelView)
@needs(Scope.WRITE)
async def set_alias(name: ModelName, alias: str, body: AliasBody, request: Request) -> Any:
    """Point an alias (production, staging, any name) at a version; publishes model.alias.set."""
    return await ask(
        request, MODEL_ALIAS_SET, AliasSet(model=name, alias=alias, version=body.version)
    )
