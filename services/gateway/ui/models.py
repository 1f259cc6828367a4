"""The models pages: the list, a model's aliases and versions, and a version's metrics, the
run that made it, the datasets it came from and its lineage."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.gateway.scopes import Scope, needs
from services.gateway.ui import catalog_views, session
from services.gateway.ui.catalog import Missing, found, page_lineage
from services.gateway.ui.render import not_found, render
from shared.queries import MODEL_VERSION_GET, RefQuery
from shared.registry_api import (
    MODEL_GET,
    MODEL_VERSIONS,
    MODELS_LIST,
    ListQuery,
    ModelVersionView,
    ModelView,
    NameQuery,
    VersionsQuery,
)

router = APIRouter(include_in_schema=False)
PAGE = 50


@router.get("/models", response_class=HTMLResponse)
@needs(Scope.READ)
async def models_page(request: Request, offset: str = "0", prefix: str = "") -> Response:
    if await session.viewer(request) is None:
        return session.to_login(request)
    skip, problem = catalog_views.offset_of(offset)
    start, bad_prefix = catalog_views.name_prefix(prefix)
    query = ListQuery(limit=PAGE, offset=skip, prefix=start)
    listed = await found(request, MODELS_LIST, query)
    kept = {"prefix": start} if start else {}
    return render(
        request,
        "models/list.html",
        models=[ModelView.model_validate(m) for m in listed["items"]],
        pages=catalog_views.page_links("/models", skip, PAGE, listed["total"], kept),
        views=catalog_views,
        problem=bad_prefix or problem,
        prefix=start or "",
    )


@router.get("/models/{name}", response_class=HTMLResponse)
@needs(Scope.READ)
async def model_page(request: Request, name: str, offset: str = "0") -> Response:
    if await session.viewer(request) is None:
        return session.to_login(request)
    skip, problem = catalog_views.offset_of(offset)
    try:
        model = ModelView.model_validate(await found(request, MODEL_GET, NameQuery(name=name)))
        query = VersionsQuery(name=name, limit=PAGE, offset=skip)
        listed = await found(request, MODEL_VERSIONS, query)
    except Missing as err:
        return not_found(request, str(err))
    versions = [ModelVersionView.model_validate(v) for v in listed["items"]]
    return render(
        request,
        "models/model.html",
        model=model,
        versions=versions,
        pages=catalog_views.page_links(f"/models/{name}", skip, PAGE, listed["total"]),
        views=catalog_views,
        problem=problem,
    )


@router.get("/models/{name}/versions/{ref}", response_class=HTMLResponse)
@needs(Scope.READ)
async def version_page(request: Request, name: str, ref: str) -> Response:
    if await session.viewer(request) is None:
        return session.to_login(request)
    try:
        answer = await found(request, MODEL_VERSION_GET, RefQuery(ref=f"{name}@{ref}"))
        version = ModelVersionView.model_validate(answer)
        graph = await page_lineage(request, f"model:{name}@{version.version}")
    except Missing as err:
        return not_found(request, str(err))
    return render(
        request,
        "models/version.html",
        version=version,
        parents=[catalog_views.parent_link(p) for p in version.parents],
        graph=graph,
        views=catalog_views,
    )
