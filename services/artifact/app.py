"""Wiring of the artifact service: the blob store, the control plane on NATS, the data
plane (file backend), previews, the outbox and health."""

from pathlib import Path
from urllib.parse import urlparse

from opentelemetry.sdk.trace import TracerProvider

from services.artifact.backends.base import BlobStore
from services.artifact.backends.files import FileStore
from services.artifact.dataplane import DataPlane, build_data_plane
from services.artifact.handlers import Artifacts
from services.artifact.previewer import Previewer
from services.artifact.previews.runner import PreviewRunner
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
    return FileStore(
        Path(urlparse(url).path), secret=settings.artifact_secret, expiry_s=settings.url_expiry_s
    )


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
    artifacts = Artifacts(settings, blobs, db.sessions, db.outbox, service.bus, previewer)
    _answer(service, artifacts)

    service.on_start.append(blobs.start)
    if isinstance(blobs, FileStore):
        _attach_data_plane(service, settings, blobs, artifacts)
    service.on_start.append(previewer.resume)
    service.background += [previewer.run_forever, artifacts.expire_forever]
    service.on_stop += [blobs.close, runner.close]
    return service


def _attach_data_plane(
    service: Service, settings: ArtifactSettings, files: FileStore, artifacts: Artifacts
) -> None:
    plane = DataPlane(
        build_data_plane(files, artifacts.upload), settings.artifact_host, settings.artifact_port
    )

    async def start() -> None:
        port = await plane.start()
        base = settings.artifact_public_url or f"http://{settings.artifact_host}:{port}"
        files.base_url = base.rstrip("/")

    service.on_start.append(start)
    service.before_stop.append(plane.stop)


def _answer(service: Service, artifacts: Artifacts) -> None:
    """Request/reply subjects, answered by any replica (queue group)."""
    routes = {
        contract.RESERVE: artifacts.reserve,
        contract.COMMIT: artifacts.commit,
        contract.ABORT: artifacts.abort,
        contract.EXISTS: artifacts.exists,
        contract.STAT: artifacts.stat,
        contract.LIST: artifacts.listing,
        contract.LOCATE: artifacts.locate,
        contract.DELETE: artifacts.delete,
        contract.PREVIEW: artifacts.preview,
        contract.NAME_BIND: artifacts.bind,
        contract.NAME_GET: artifacts.name,
        contract.NAME_LIST: artifacts.names,
    }
    for subject, handler in routes.items():
        service.broker.subscriber(subject, queue=NAME)(handler)
