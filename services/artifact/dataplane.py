"""The data plane of the file backend: streaming PUT of uploads, GET (with Range) of blobs.

A small HTTP server in the artifact process. Every URL is signed by the control plane
(reserve, locate), so the data plane trusts the signature and nothing else.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from services.artifact.backends.files import FileStore
from services.artifact.bundles import BundleError, FrameReader
from services.artifact.domain import Refused, Upload
from shared.artifacts import BadKey, blob_key, check_digest, check_upload_id
from shared.internal_errors import InternalErrors

log = logging.getLogger(__name__)
FindUpload = Callable[[str], Awaitable[Upload | None]]


class BlobResponse(FileResponse):
    chunk_size = 1024**2  # fewer, larger reads than Starlette's 64 KiB: ~2x the throughput


def _refused(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


# A factory: C901 adds up the branches of all the small routes it defines.
def build_data_plane(files: FileStore, find_upload: FindUpload) -> Starlette:  # noqa: C901
    def refusal(request: Request, method: str) -> str | None:
        query = request.query_params
        return files.refusal(method, request.url.path, query.get("expires"), query.get("signature"))

    async def put_upload(request: Request) -> Response:
        if problem := refusal(request, "PUT"):
            return _refused(403, problem)
        try:
            upload_id = check_upload_id(request.path_params["upload_id"])
        except BadKey as err:
            return _refused(400, str(err))
        upload = await find_upload(upload_id)
        if upload is None:
            return _refused(404, f"no upload {upload_id}: expired, aborted or committed")
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > upload.size:
            return _refused(413, f"body of {length} bytes; the upload declared {upload.size}")
        try:
            digest = await files.receive(upload, request.stream())
        except Refused as err:
            return _refused(err.status, err.message)
        return JSONResponse({"upload_id": upload.id, "sha256": digest, "size": upload.size})

    async def put_bundle(request: Request) -> Response:
        """Many small uploads in one body (bundles.py); one result per frame, in order."""
        if problem := refusal(request, "PUT"):
            return _refused(403, problem)
        frames, results = FrameReader(request.stream()), []
        try:
            while header := await frames.header():
                result = await _receive_frame(files, find_upload, frames, *header)
                results.append(result)
                if not result["ok"]:
                    break  # the stream is out of step after a failed frame
        except BundleError as err:
            return _refused(400, str(err))
        return JSONResponse(results)

    async def get_blob(request: Request) -> Response:
        if problem := refusal(request, "GET"):
            return _refused(403, problem)
        try:
            path = files.path(blob_key(check_digest(request.path_params["sha256"])))
        except (BadKey, Refused) as err:
            return _refused(400, str(err))
        if not path.is_file():
            return _refused(404, "no such blob")
        return BlobResponse(path, media_type="application/octet-stream")

    return Starlette(
        middleware=[Middleware(InternalErrors, logger=__name__)],
        routes=[
            Route("/uploads/{upload_id}", put_upload, methods=["PUT"]),
            Route("/bundles", put_bundle, methods=["PUT"]),
            Route("/blobs/{sha256}", get_blob, methods=["GET", "HEAD"]),
        ],
    )


async def _receive_frame(
    files: FileStore, find_upload: FindUpload, frames: FrameReader, upload_id: str, size: int
) -> dict[str, object]:
    result: dict[str, object] = {"upload_id": upload_id, "ok": False}
    try:
        upload = await find_upload(check_upload_id(upload_id))
        if upload is None:
            raise Refused(404, f"no upload {upload_id}: expired, aborted or committed")
        if size != upload.size:
            raise Refused(400, f"frame of {size} bytes; the upload declared {upload.size}")
        result |= {"ok": True, "sha256": await files.receive(upload, frames.body(size))}
    except (BadKey, Refused) as err:
        status = err.status if isinstance(err, Refused) else 400
        result |= {"status": status, "error": str(err)}
    return result


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The service's own loop handles SIGTERM and stops us; uvicorn must not take it.
        yield


class DataPlane:
    """Runs the data plane's HTTP server on the service's event loop."""

    def __init__(self, app: Starlette, host: str, port: int) -> None:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            http="httptools",  # C parsing of request bodies: less CPU per MiB than h11
            log_level="warning",
            log_config=None,  # its lines go through the service's own logging
            access_log=False,
            lifespan="off",
            timeout_keep_alive=75,  # longer than a client's idle expiry: it closes first
        )
        self.server = _Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> int:
        """Listen; returns the port (useful when asked for port 0)."""
        self._task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("the artifact data plane stopped while starting")
            await asyncio.sleep(0.01)
        return int(self.server.servers[0].sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._task is not None:
            self.server.should_exit = True
            await self._task
            self._task = None
