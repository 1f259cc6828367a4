"""The catalog's pages: datasets, models and the lineage between them. Each page asks the
registry as the /v1 routes do; an unknown name or version is the 404 page."""

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from services.gateway.ask import ask
from services.gateway.scopes import Scope, needs
from services.gateway.ui import catalog_views, lineage_views, session
from services.gateway.ui.lineage_views import BadNode
from shared.registry_api import (
    LINEAGE_GET,
    LineageQuery,
    LineageView,
    ListQuery,
    NameQuery,
    VersionsQuery,
)

router = APIRouter(include_in_schema=False)
PAGE_DEPTH = 2  # hops each way a page shows at first; "expand" loads more
PAGE = 50  # datasets, models or versions a page


class Missing(Exception):
    """What the page asked for is not there (or cannot be named so): the 404 page says which."""


async def found(request: Request, subject: str, query: BaseModel) -> Any:
    """The registry's answer; Missing for an unknown or malformed name or version."""
    try:
        return await ask(request, subject, query)
    except HTTPException as err:
        if err.status_code in (400, 404, 422):
            raise Missing(str(err.detail)) from None
        raise


async def list_page(request: Request, subject: str, path: str, offset: str, prefix: str) -> Any:
    """A page of the datasets or models list (`path`), by name prefix: its items, its page
    links, the prefix, and what is wrong with the URL's offset or prefix."""
    skip, problem = catalog_views.offset_of(offset)
    start, bad_prefix = catalog_views.name_prefix(prefix)
    listed = await found(request, subject, ListQuery(limit=PAGE, offset=skip, prefix=start))
    kept = {"prefix": start} if start else {}
    return {
        "items": listed["items"],
        "pages": catalog_views.page_links(path, skip, PAGE, listed["total"], kept),
        "problem": bad_prefix or problem,
        "prefix": start or "",
    }


async def versions_page(
    request: Request, subjects: tuple[str, str], path: str, name: str, offset: str
) -> tuple[Any, dict[str, Any]]:
    """A dataset or model (`subjects`: its get and versions queries) and a page of its
    versions at `path`: their items, page links and what is wrong with the offset; Missing
    for an unknown name."""
    get, versions = subjects
    skip, problem = catalog_views.offset_of(offset)
    item = await found(request, get, NameQuery(name=name))
    listed = await found(request, versions, VersionsQuery(name=name, limit=PAGE, offset=skip))
    pages = catalog_views.page_links(path, skip, PAGE, listed["total"])
    return item, {"items": listed["items"], "pages": pages, "problem": problem}


async def lineage(request: Request, node: str, depth: int = PAGE_DEPTH) -> dict[str, Any]:
    """The lineage graph around `node` (nodes and edges, as drawGraph takes them)."""
    answer = await found(request, LINEAGE_GET, LineageQuery(node=node, depth=depth))
    return lineage_views.graph(LineageView.model_validate(answer))


async def page_lineage(request: Request, node: str) -> dict[str, Any]:
    """The graph a version's page starts with; a message instead when it is too big to send."""
    try:
        return await lineage(request, node)
    except HTTPException as err:
        if err.status_code != 413:
            raise
        why = f"the lineage {PAGE_DEPTH} hops around {node} is too large to draw: {err.detail}"
        return {"root": node, "nodes": [], "edges": [], "problem": why}


@router.get("/lineage")
@needs(Scope.READ)
async def lineage_json(request: Request, node: str = "", depth: int = PAGE_DEPTH) -> Response:
    """The graph around a node, for a page's "expand": JSON, never a page."""
    if await session.viewer(request) is None:
        return JSONResponse({"error": "sign in first"}, status_code=401)
    try:
        graph = await lineage(request, lineage_views.checked(node, depth), depth)
    except BadNode as err:
        return JSONResponse({"error": str(err)}, status_code=400)
    except Missing as err:
        return JSONResponse({"error": str(err)}, status_code=404)
    except HTTPException as err:
        return JSONResponse({"error": str(err.detail)}, status_code=err.status_code)
    return JSONResponse(graph)
