"""/v1/artifacts: upload and download blobs, their metadata, previews and named keys.

Bytes do not pass through here unless asked: downloads redirect (307) to the artifact
data plane or to a presigned S3 URL, and uploads go where a reservation says. For clients
that can reach only the gateway, `?stream=true` downloads and `PUT /v1/artifacts/{sha256}`
uploads are streamed through.
"""

import logging
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from nats.errors import NoRespondersError
from pydantic import BaseModel, ValidationError
from starlette.background import BackgroundTask

from services.gateway.json_bodies import JsonRoute
from services.gateway.scopes import Scope, needs
from shared import artifacts as contract
from shared.artifacts import (
    BlobInfo,
    BlobList,
    BlobQuery,
    BlobSpec,
    CommitItem,
    CommitRequest,
    CommitResult,
    DigestsQuery,
    Location,
    NameBind,
    NameInfo,
    NameList,
    NameQuery,
    Presence,
    Preview,
    Reservation,
    ReserveRequest,
    UploadRef,
)
from shared.internal_errors import internal_error
from shared.queries import Reply
from shared.specs import validation_problems

log = logging.getLogger(__name__)
router = APIRouter(route_class=JsonRoute, tags=["artifacts"])
COMMIT_TIMEOUT_S = 900.0  # S3 commits re-hash the blob: gigabytes take a while
PROXY_TIMEOUT = httpx.Timeout(30.0, read=300.0, write=300.0)
PASSED_ON = ("content-length", "content-range", "accept-ranges", "content-disposition")
SHA256 = r"^[0-9a-f]{64}$"


class NameTarget(BaseModel):
    sha256: contract.Digest


@router.post("/artifacts/uploads", response_model=list[Reservation])
@needs(Scope.WRITE)
async def reserve(body: ReserveRequest, request: Request) -> Any:
    """For each blob: already stored, or where to send its bytes (then commit)."""
    return await _ask(request, contract.RESERVE, body)


@router.post("/artifacts/commits", response_model=list[CommitResult])
@needs(Scope.WRITE)
async def commit(body: CommitRequest, request: Request) -> Any:
    """Verify uploaded bytes against their sha256 and store them; one result per upload."""
    return await _ask(request, contract.COMMIT, body, timeout=COMMIT_TIMEOUT_S)


@router.delete("/artifacts/uploads/{upload_id}")
@needs(Scope.WRITE)
async def abort(upload_id: str, request: Request) -> Any:
    return await _ask(request, contract.ABORT, _valid(UploadRef, upload_id=upload_id))


@router.post("/artifacts/exists", response_model=Presence)
@needs(Scope.READ)
async def exists(body: DigestsQuery, request: Request) -> Any:
    """Which of these digests are stored, in one call."""
    return await _ask(request, contract.EXISTS, body)


@router.get("/artifacts", response_model=list[BlobInfo])
@needs(Scope.READ)
async def list_blobs(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after: Annotated[str | None, Query(pattern=SHA256)] = None,
    name_prefix: str | None = None,
) -> Any:
    """Blobs by sha256; pass the last one as `after` for the next page."""
    query = _valid(BlobList, limit=limit, after=after, name_prefix=name_prefix)
    return await _ask(request, contract.LIST, query)


@router.get("/artifacts/names", response_model=list[NameInfo])
@needs(Scope.READ)
async def list_names(
    request: Request, prefix: str = "", limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> Any:
    return await _ask(request, contract.NAME_LIST, _valid(NameList, prefix=prefix, limit=limit))


@router.put("/artifacts/names/{key:path}", response_model=NameInfo)
@needs(Scope.WRITE)
async def bind_name(key: str, body: NameTarget, request: Request) -> Any:
    """Point a named key (e.g. runs/<run id>/logs.jsonl) at a stored blob."""
    return await _ask(request, contract.NAME_BIND, _valid(NameBind, key=key, sha256=body.sha256))


@router.get("/artifacts/names/{key:path}", response_model=NameInfo)
@needs(Scope.READ)
async def get_name(key: str, request: Request) -> Any:
    return await _ask(request, contract.NAME_GET, _valid(NameQuery, key=key))


@router.get("/artifacts/{sha256}/metadata", response_model=BlobInfo)
@needs(Scope.READ)
async def stat(sha256: str, request: Request) -> Any:
    return await _ask(request, contract.STAT, _blob(sha256))


@router.get("/artifacts/{sha256}/preview", response_model=Preview)
@needs(Scope.READ)
async def preview(sha256: str, request: Request) -> Any:
    """The preview of a DataFrame, array, JSON document, image or visualisation."""
    return await _ask(request, contract.PREVIEW, _blob(sha256))


@router.delete("/artifacts/{sha256}")
@needs(Scope.WRITE)
async def delete(sha256: str, request: Request) -> Any:
    return await _ask(request, contract.DELETE, _blob(sha256))


@router.get("/artifacts/{sha256}", response_class=Response)
@needs(Scope.READ)
async def download(
    sha256: str,
    request: Request,
    stream: bool = False,
    range: Annotated[str | None, Header()] = None,
) -> Response:
    """The bytes: a 307 to where they are (Range works there), or streamed with ?stream=true."""
    location = Location.model_validate(await _ask(request, contract.LOCATE, _blob(sha256)))
    if not stream:
        return RedirectResponse(location.url, status_code=307)
    client = httpx.AsyncClient(timeout=PROXY_TIMEOUT)
    upstream = await client.send(
        client.build_request("GET", location.url, headers={"range": range} if range else {}),
        stream=True,
    )
    headers = {k: v for k, v in upstream.headers.items() if k.lower() in PASSED_ON}
    return StreamingResponse(
        upstream.aiter_raw(),
        status_code=upstream.status_code,
        headers=headers,
        media_type="application/octet-stream",
        background=BackgroundTask(_close, upstream, client),
    )


# The bytes as they are, their Content-Length the blob's size: framing, not a parameter.
BYTES = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.put("/artifacts/{sha256}", response_model=BlobInfo, status_code=201, openapi_extra=BYTES)
@needs(Scope.WRITE)
async def upload(
    sha256: str, request: Request, name: str | None = None, media_type: str | None = None
) -> Any:
    """One blob streamed through the gateway: reserve, send, commit in one request."""
    length = request.headers.get("content-length", "")
    if not (length.isascii() and length.isdigit()):
        raise HTTPException(411, "send the blob with its Content-Length (its size in bytes)")
    content_length = int(length)
    spec = _valid(BlobSpec, size=content_length, sha256=sha256, name=name, media_type=media_type)
    answer = await _ask(request, contract.RESERVE, ReserveRequest(blobs=[spec]))
    reservation = Reservation.model_validate(answer[0])
    if reservation.exists:
        return reservation.blob
    target = reservation.upload
    assert target is not None  # noqa: S101
    if not target.url:
        await _ask(request, contract.ABORT, UploadRef(upload_id=target.upload_id))
        raise HTTPException(413, "too large for one request: use POST /v1/artifacts/uploads")
    await _send(request, target.url, target.headers | {"content-length": str(content_length)})
    item = CommitItem(upload_id=target.upload_id, sha256=sha256)
    results = await _ask(
        request, contract.COMMIT, CommitRequest(commits=[item]), timeout=COMMIT_TIMEOUT_S
    )
    result = CommitResult.model_validate(results[0])
    if not result.ok:
        raise HTTPException(result.status, result.error)
    return result.blob


async def _send(request: Request, url: str, headers: dict[str, str]) -> None:
    async with httpx.AsyncClient(timeout=PROXY_TIMEOUT) as client:
        try:
            response = await client.put(url, content=request.stream(), headers=headers)
        except httpx.TransportError:
            # Its text names the store's internal address: the log keeps it, under an id.
            fault = internal_error(log, "sending the bytes on")
            raise HTTPException(502, f"the blob store did not take the bytes: {fault}") from None
    if response.status_code >= 300:
        raise HTTPException(response.status_code, _detail(response))


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text))
    except ValueError:
        return response.text[:1000]


async def _close(upstream: httpx.Response, client: httpx.AsyncClient) -> None:
    await upstream.aclose()
    await client.aclose()


def _valid(model: type[BaseModel], **fields: Any) -> Any:
    """Build a query from path/query parameters; bad input is a 422 naming the field."""
    try:
        return model.model_validate(fields)
    except ValidationError as err:
        raise HTTPException(422, "; ".join(validation_problems(err))) from None


def _blob(sha256: str) -> BlobQuery:
    return _valid(BlobQuery, sha256=sha256)


async def _ask(
    request: Request, subject: str, query: BaseModel, *, timeout: float | None = None
) -> Any:
    broker = request.app.state.service.broker
    timeout = timeout or request.app.state.settings.query_timeout_s
    try:
        message = await broker.request(query, subject, timeout=timeout)
    except (TimeoutError, NoRespondersError):
        raise HTTPException(503, f"no answer from the artifact service within {timeout}s") from None
    reply = Reply.model_validate(await message.decode())
    if not reply.ok:
        raise HTTPException(reply.status, reply.error)
    return reply.result
