"""/v1/components and /v1/pipelines: register YAML specs as immutable versions, read them."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from pydantic import BaseModel

from services.gateway.ask import ask
from services.gateway.created import ask_created
from services.gateway.json_bodies import JsonRoute
from services.gateway.names import checked
from services.gateway.scopes import Scope, needs
from shared.queries import COMPONENT_GET, PIPELINE_GET, RefQuery
from shared.registry_api import (
    COMPONENT_REGISTER,
    COMPONENT_VERSIONS,
    COMPONENTS_LIST,
    PIPELINE_REGISTER,
    PIPELINE_VERSIONS,
    PIPELINES_LIST,
    ComponentView,
    ListQuery,
    Page,
    PipelineView,
    SpecRegister,
    VersionsQuery,
)
from shared.storable import Offset, Text

router = APIRouter(route_class=JsonRoute)
SpecText = Annotated[str, Body(media_type="application/yaml", description="The YAML spec.")]
Limit = Annotated[int, Query(ge=1, le=1000)]
KINDS: dict[str, tuple[str, str, str, str, type[BaseModel]]] = {
    "component": (
        COMPONENT_REGISTER,
        COMPONENTS_LIST,
        COMPONENT_VERSIONS,
        COMPONENT_GET,
        ComponentView,
    ),
    "pipeline": (PIPELINE_REGISTER, PIPELINES_LIST, PIPELINE_VERSIONS, PIPELINE_GET, PipelineView),
}


def _routes(kind: str) -> None:
    """The same routes for /v1/components and /v1/pipelines."""
    register, listing, versions, get, view = KINDS[kind]
    plural = f"/{kind}s"
    tags: list[str | Any] = [f"{kind}s"]
    Name = Annotated[str, Depends(checked(kind))]

    @router.post(plural, response_model=view, name=f"register_{kind}", tags=tags)
    @needs(Scope.WRITE)
    async def register_spec(text: SpecText, request: Request, response: Response) -> Any:
        """Register a YAML spec: 201 with a new version, or 200 with the version that has the
        same content; 422 names each problem with its field and line. `{{ spec.dir }}` and
        `{{ python }}` come filled in (the CLI fills them from the spec file)."""
        return await ask_created(request, response, register, SpecRegister(text=text))

    @router.get(plural, response_model=Page, name=f"list_{kind}s", tags=tags)
    @needs(Scope.READ)
    async def list_specs(
        request: Request,
        limit: Limit = 50,
        offset: Offset = 0,
        prefix: Text | None = None,
        type: Text | None = None,
    ) -> Any:
        """The latest version of each, by name."""
        query = ListQuery(limit=limit, offset=offset, prefix=prefix, type=type)
        return await ask(request, listing, query)

    @router.get(plural + "/{name}", response_model=view, name=f"show_{kind}", tags=tags)
    @needs(Scope.READ)
    async def show(name: Name, request: Request) -> Any:
        """The latest version (NAME@VERSION for another)."""
        return await ask(request, get, RefQuery(ref=name))

    @router.get(
        plural + "/{name}/versions", response_model=Page, name=f"{kind}_versions", tags=tags
    )
    @needs(Scope.READ)
    async def list_versions(
        name: Name, request: Request, limit: Limit = 50, offset: Offset = 0
    ) -> Any:
        return await ask(request, versions, VersionsQuery(name=name, limit=limit, offset=offset))

    @router.get(
        plural + "/{name}/versions/{version}",
        response_model=view,
        name=f"{kind}_version",
        tags=tags,
    )
    @needs(Scope.READ)
    async def show_version(name: Name, version: str, request: Request) -> Any:
        return await ask(request, get, RefQuery(ref=f"{name}@{version}"))


_routes("component")
_routes("pipeline")
