"""A run's artifacts with their previews; one stored file's preview as a fragment (the
datasets and models pages open their files' previews with it); a file's bytes, as a
download or as an image a preview shows. The previews are the artifact service's: the
gateway never reads a file to preview it."""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from services.gateway import artifacts as artifacts_api
from services.gateway.ask import ask
from services.gateway.scopes import Scope, needs
from services.gateway.ui import previews_views as views
from services.gateway.ui import session
from services.gateway.ui.lookups import run_of
from services.gateway.ui.render import render
from shared import artifacts as contract
from shared.artifacts import BadKey, BlobInfo, BlobQuery, Preview, check_digest

router = APIRouter(include_in_schema=False)
Name = Annotated[str, Query(max_length=contract.MAX_KEY_BYTES)]
# Bytes shown by the browser as they are: never sniffed into another type, never a page
# that runs anything.
GUARDED = {
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; sandbox",
}


@router.get("/runs/{run_id}/artifacts", response_class=HTMLResponse)
@needs(Scope.READ)
async def run_artifacts(request: Request, run_id: str) -> Response:
    """The run page's section: its logged artifacts and outputs' files, the first previewed."""
    if await session.viewer(request) is None:
        return session.to_login(request)
    run = await run_of(request, run_id)
    listing = views.listing(views.run_files(run))
    inline = sorted(listing.inline)
    shown = await asyncio.gather(*(_listed(request, sha256) for sha256 in inline))
    previews = dict(zip(inline, shown, strict=True))
    return render(request, "previews/run.html", listing=listing, previews=previews)


@router.get("/preview/{sha256}", response_class=HTMLResponse)
@needs(Scope.READ)
async def preview(request: Request, sha256: str, name: Name = "") -> Response:
    """One stored file with its preview, as a fragment."""
    if await session.viewer(request) is None:
        return session.to_login(request)
    try:
        found = await _found(request, sha256)
    except HTTPException as err:
        if err.status_code != 503:
            raise
        file = views.File(name or sha256, sha256, None)  # busy: the fragment asks again
        return render(request, "previews/fragment.html", file=file, preview={"kind": "pending"})
    if isinstance(found, Response):
        return found
    blob, shown = found
    file = views.File(name or blob.name or blob.sha256, blob.sha256, blob.size)
    return render(request, "previews/fragment.html", file=file, preview=_view(shown))


@router.get("/blobs/{sha256}")
@needs(Scope.READ)
async def download(request: Request, sha256: str, name: Name = "") -> Response:
    """A stored file's bytes as a download named `name`."""
    if await session.viewer(request) is None:
        return session.to_login(request)
    disposition = views.disposition(name or sha256)
    return await _bytes(request, sha256, "application/octet-stream", disposition)


@router.get("/blobs/{sha256}/image")
@needs(Scope.READ)
async def image(request: Request, sha256: str) -> Response:
    """A stored image's bytes, typed by what the previewer found them to be (never SVG)."""
    if await session.viewer(request) is None:
        return session.to_login(request)
    found = await _found(request, sha256)
    if isinstance(found, Response):
        return found
    shown = found[1]
    fmt = (shown.preview or {}).get("format") if shown.kind == "image" else None
    media_type = views.SERVED.get(str(fmt))
    if media_type is None:
        return PlainTextResponse(f"{sha256} is not an image the UI shows", status_code=404)
    return await _bytes(request, sha256, media_type, "inline")


async def _preview(request: Request, sha256: str) -> Preview:
    return Preview.model_validate(await ask(request, contract.PREVIEW, BlobQuery(sha256=sha256)))


async def _listed(request: Request, sha256: str) -> dict[str, Any]:
    """A listed file's preview; one the artifact service is too busy to answer now (it
    answers one query at a time, and waits a while for a preview being made) is shown as
    being made, and asked for again by the page."""
    try:
        return _view(await _preview(request, sha256))
    except HTTPException as err:
        if err.status_code == 503:
            return {"kind": "pending"}
        if err.status_code == 404:
            return {"kind": "failed", "error": "the file is no longer stored"}
        raise


async def _found(request: Request, sha256: str) -> tuple[BlobInfo, Preview] | Response:
    """The blob and its preview, or the 404 fragment saying why there is none."""
    try:
        digest = check_digest(sha256)
        query = BlobQuery(sha256=digest)
        blob, shown = await asyncio.gather(
            ask(request, contract.STAT, query), _preview(request, digest)
        )
    except BadKey as err:
        return _missing(request, str(err))
    except HTTPException as err:
        if err.status_code != 404:
            raise
        return _missing(request, f"no stored file with sha256 {sha256}")
    return BlobInfo.model_validate(blob), shown


def _missing(request: Request, why: str) -> Response:
    return render(request, "previews/missing.html", why=why, status=404)


def _view(shown: Preview) -> dict[str, Any]:
    return views.view(shown.sha256, shown.status, shown.preview)


async def _bytes(request: Request, sha256: str, media_type: str, disposition: str) -> Response:
    """The bytes streamed from the store (never held whole), with headers of our own."""
    try:
        response = await artifacts_api.download(check_digest(sha256), request, stream=True)
    except BadKey as err:
        return PlainTextResponse(str(err), status_code=404)
    except HTTPException as err:
        if err.status_code != 404:
            raise
        return PlainTextResponse(f"no stored file with sha256 {sha256}", status_code=404)
    response.headers.update(GUARDED)
    response.headers["content-type"] = media_type
    response.headers["content-disposition"] = disposition
    return response
