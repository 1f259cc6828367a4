"""The datasets pages: the list, a dataset's versions with their change summaries, and a
version's files (with previews of tables), pin, drift check and lineage."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.gateway.scopes import Scope, needs
from services.gateway.ui import catalog_views, session
from services.gateway.ui.catalog import Missing, found, list_page, page_lineage, versions_page
from services.gateway.ui.render import not_found, render
from shared.queries import DATASET_VERSION_GET
from shared.registry_api import (
    DATASET_FILES,
    DATASET_GET,
    DATASET_VERIFY,
    DATASET_VERSIONS,
    DATASETS_LIST,
    DatasetVersionView,
    FilesQuery,
    VersionQuery,
)

router = APIRouter(include_in_schema=False)
FILES = 200


@router.get("/datasets", response_class=HTMLResponse)
@needs(Scope.READ)
async def datasets_page(request: Request, offset: str = "0", prefix: str = "") -> Response:
    if await session.viewer(request) is None:
        return session.to_login(request)
    shown = await list_page(request, DATASETS_LIST, "/datasets", offset, prefix)
    return render(request, "datasets/list.html", datasets=shown.pop("items"), **shown)


@router.get("/datasets/{name}", response_class=HTMLResponse)
@needs(Scope.READ)
async def dataset_page(request: Request, name: str, offset: str = "0") -> Response:
    if await session.viewer(request) is None:
        return session.to_login(request)
    queries = (DATASET_GET, DATASET_VERSIONS)
    try:
        dataset, shown = await versions_page(request, queries, f"/datasets/{name}", name, offset)
    except Missing as err:
        return not_found(request, str(err))
    rows = [
        catalog_views.version_row(DatasetVersionView.model_validate(v)) for v in shown.pop("items")
    ]
    return render(request, "datasets/dataset.html", dataset=dataset, rows=rows, **shown)


@router.get("/datasets/{name}/versions/{ref}", response_class=HTMLResponse)
@needs(Scope.READ)
async def version_page(request: Request, name: str, ref: str, offset: str = "0") -> Response:
    if await session.viewer(request) is None:
        return session.to_login(request)
    skip, problem = catalog_views.offset_of(offset)
    try:
        answer = await found(
            request, DATASET_VERSION_GET, VersionQuery(ref=f"{name}@{ref}", files=False)
        )
        version = DatasetVersionView.model_validate(answer)
        files: dict[str, Any] = {"items": [], "total": 0}
        if version.managed:
            query = FilesQuery(ref=f"{name}@{version.version}", limit=FILES, offset=skip)
            files = await found(request, DATASET_FILES, query)
        graph = await page_lineage(request, f"dataset:{name}@{version.version}")
    except Missing as err:
        return not_found(request, str(err))
    path = f"/datasets/{name}/versions/{version.version}"
    return render(
        request,
        "datasets/version.html",
        version=version,
        row=catalog_views.version_row(version),
        changed=catalog_views.changed_paths(version.changes),
        parents=[catalog_views.parent_link(p) for p in version.parents],
        files=files["items"],
        pages=catalog_views.page_links(path, skip, FILES, files["total"]),
        graph=graph,
        views=catalog_views,
        problem=problem,
    )


@router.get("/datasets/{name}/versions/{ref}/drift", response_class=HTMLResponse)
@needs(Scope.READ)
async def drift_fragment(request: Request, name: str, ref: str) -> Response:
    """Whether the data behind a version still matches its pin (asked on a click: it may
    read the data)."""
    if await session.viewer(request) is None:
        return session.to_login(request)
    try:
        verified = await found(request, DATASET_VERIFY, VersionQuery(ref=f"{name}@{ref}"))
    except Missing as err:
        return not_found(request, str(err))
    return render(request, "datasets/drift.html", verified=verified)
