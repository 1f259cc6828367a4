"""Wiring of the artifact service: the blob store, the control plane on NATS, the data
plane (file backend), previews, the outbox and health."""

from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from opentelemetry.sdk.trace import TracerProvider

from services.artifact.backends.base import BlobStore
from services.artifact.backends.files import FileStore
from services.artifact.dataplane import DataPlane, build_data_plane
from services.artifact.handlers import Uploads
from services.artifact.previewer import Previewer
from services.artifact.previews.runner import PreviewRunner
from services.artifact.reads import Reads
from services.artifact.settings import ArtifactSettings
from shared import artifacts as contract
from shared.service import Service, attach_database, build_service
from shared.settings import BoxopsSettings

NAME = "artifact"
MIGRATIONS = Path(__file__).parent / "migrations" / "versions"


def open_store(settings: ArtifactSettings) -> BlobStore:
    url = settings.blob_url()
    if url.startswith("s3://"):
        from services.artifact.backends.s3 import S3Store  # aioboto3 only when S3 is used

        return S3Store(settings)
    root = Path(url2pathname(urlparse(url).path))  # file:///a%20b → /a b
    return FileStore(root, secret=settings.artifact_secret, expiry_s=settings.url_expiry_s)


def build_app(settings: BoxopsSettings, *, tracing: TracerProvider | None = None) -> Service:
    if not isinstance(settings, ArtifactSettings):
        settings = ArtifactSettings.model_validate(settings.model_dump())
    service = build_service(NAME, settings, tracing)
    db = attach_database(service, MIGRATIONS)
    blobs = open_store(settings)
    runner = PreviewRunner(
        timeout_s=settings.preview_timeout_s, memory_mb=settings.preview_memory_mb
    )
    previewer = Previewer(blobs, db.sessions, runner, max_bytes=settings.preview_max_bytes)
    uploads = Uploads(settings, blobs, db.sessions, db.outbox, service.bus, previewer)
    _answer(service, uploads, Reads(blobs, db.sessions, previewer))

    service.on_start.append(blobs.start)
    if isinstance(blobs, FileStore):
        _attach_data_plane(service, settings, blobs, uploads)
    service.on_start.append(previewer.resume)
    service.background += [
        previewer.run_forever,
        lambda: uploads.expire_forever(settings.upload_sweep_s),
    ]
    service.on_stop += [blobs.close, runner.close]
    return service


def _attach_data_plane(
    service: Service, settings: ArtifactSettings, files: FileStore, uploads: Uploads
) -> None:
    plane = DataPlane(
        build_data_plane(files, uploads.upload), settings.artifact_host, settings.artifact_port
    )

    async def start() -> None:
        port = await plane.start()
        base = settings.artifact_public_url or f"http://{settings.artifact_host}:{port}"
        files.base_url = base.rstrip("/")

    service.on_start.append(start)
    service.before_stop.append(plane.stop)


def _answer(service: Service, uploads: Uploads, reads: Reads) -> None:
    """Request/reply subjects, answered by any replica (queue group)."""
    routes = {
        contract.RESERVE: uploads.reserve,
        contract.COMMIT: uploads.commit,
        contract.ABORT: uploads.abort,
        contract.EXISTS: reads.exists,
        contract.STAT: reads.stat,
        contract.LIST: reads.listing,
        contract.LOCATE: reads.locate,
        contract.DELETE: reads.delete,
        contract.PREVIEW: reads.preview,
        contract.NAME_BIND: reads.bind,
        contract.NAME_GET: reads.name,
        contract.NAME_LIST: reads.names,
    }
    for subject, handler in routes.items():
        service.broker.subscriber(subject, queue=NAME)(handler)
