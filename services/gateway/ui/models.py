"""The models pages: the list, a model's aliases and versions, and a version's metrics, the
run that made it, the datasets it came from and its lineage."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.gateway.scopes import Scope, needs
from services.gateway.ui import catalog_views, session
from services.gateway.ui.catalog import Missing, found, list_page, page_lineage, versions_page
from services.gateway.ui.render import not_found, render
from shared.queries import MODEL_VERSION_GET, RefQuery
from shared.registry_api import (
    MODEL_GET,
    MODEL_VERSIONS,
    MODELS_LIST,
    ModelVersionView,
    ModelView,
)

router = APIRouter(include_in_schema=False)


@router.get("/models", response_class=HTMLResponse)
@needs(Scope.READ)
async def models_page(request: Request, offset: str = "0", prefix: str = "") -> Response:
    if await session.viewer(request) is None:
        return session.to_login(request)
    shown = await list_page(request, MODELS_LIST, "/models", offset, prefix)
    models = [ModelView.model_validate(m) for m in shown.pop("items")]
    return render(request, "models/list.html", models=models, views=catalog_views, **shown)


@router.get("/models/{name}", response_class=HTMLResponse)
@needs(Scope.READ)
async def model_page(request: Request, name: str, offset: str = "0") -> Response:
    if await session.viewer(request) is None:
        return session.to_login(request)
    queries = (MODEL_GET, MODEL_VERSIONS)
    try:
        model, shown = await versions_page(request, queries, f"/models/{name}", name, offset)
    except Missing as err:
        return not_found(request, str(err))
    return render(
        request,
        "models/model.html",
        model=ModelView.model_validate(model),
        versions=[ModelVersionView.model_validate(v) for v in shown.pop("items")],
        views=catalog_views,
        **shown,
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
