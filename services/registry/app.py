"""Wiring of the registry: database, outbox, consumers and the queries it answers."""

from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from pydantic import BaseModel

from services.registry import reads
from services.registry.external import Announced, External
from services.registry.handlers import Handlers
from services.registry.pinning import Pinning
from services.registry.pins import Budget, Pinner
from services.registry.settings import RegistrySettings
from services.registry.tx import Tx
from shared import queries
from shared import registry_api as api
from shared.events import RunCompleted
from shared.queries import Reply
from shared.service import Service, attach_database, build_service
from shared.settings import BoxopsSettings
from shared.unit_of_work import UnitOfWork

NAME = "registry"
MIGRATIONS = Path(__file__).parent / "migrations" / "versions"


def build_app(settings: BoxopsSettings, *, tracing: TracerProvider | None = None) -> Service:
    settings = _registry_settings(settings)
    service = build_service(NAME, settings, tracing)
    db = attach_database(service, MIGRATIONS, settings.relay_interval_s)
    writer = UnitOfWork(service.bus, db.sessions, db.outbox, Tx)
    pinner = Pinner(
        s3=_s3_clients(settings),
        timeout_s=settings.pin_timeout_s,
        roots=settings.external_file_roots,
        budget=Budget(settings.pin_max_bytes, settings.pin_max_s),
    )
    pinning = Pinning(writer, pinner, settings.pins_at_once)
    service.background.append(pinning.run)
    handlers = Handlers(service.broker, writer, pinner, pinning, settings.staged_ttl_s)

    external = External(service.bus, writer, pinner, pinning)
    service.bus.consume_batch(Announced, durable=f"{NAME}-datasets")(external.on_announced)
    service.bus.consume(RunCompleted, durable=f"{NAME}-runs")(handlers.on_run_completed)

    for subject, (model, query) in READS.items():
        service.answer(subject, model, partial(handlers.read, query))
    for subject, (model, work) in writes(handlers).items():
        service.answer(subject, model, work)
    return service


READS: dict[str, tuple[type[BaseModel], Callable[..., Awaitable[Any]]]] = {
    api.DATASETS_LIST: (api.ListQuery, reads.dataset_list),
    api.DATASET_GET: (api.NameQuery, reads.dataset),
    api.DATASET_VERSIONS: (api.VersionsQuery, reads.dataset_versions),
    queries.DATASET_VERSION_GET: (api.VersionQuery, reads.dataset_version),
    api.DATASET_FILES: (api.FilesQuery, reads.dataset_files),
    api.MODELS_LIST: (api.ListQuery, reads.model_list),
    api.MODEL_GET: (api.NameQuery, reads.model),
    api.MODEL_VERSIONS: (api.VersionsQuery, reads.model_versions),
    queries.MODEL_VERSION_GET: (queries.RefQuery, reads.model_version),
    api.COMPONENTS_LIST: (api.ListQuery, reads.component_list),
    api.COMPONENT_VERSIONS: (api.VersionsQuery, reads.component_versions),
    queries.COMPONENT_GET: (queries.RefQuery, reads.component),
    api.PIPELINES_LIST: (api.ListQuery, reads.pipeline_list),
    api.PIPELINE_VERSIONS: (api.VersionsQuery, reads.pipeline_versions),
    queries.PIPELINE_GET: (queries.RefQuery, reads.pipeline),
    api.LINEAGE_GET: (api.LineageQuery, reads.lineage_of),
}


def writes(
    handlers: Handlers,
) -> dict[str, tuple[type[BaseModel], Callable[[Any], Awaitable[Reply]]]]:
    return {
        api.DATASET_UPSERT: (api.DatasetUpsert, handlers.upsert_dataset),
        api.DATASET_VERSION_CREATE: (api.DatasetVersionCreate, handlers.create_dataset_version),
        api.DATASET_STAGE: (api.FilesChunk, handlers.stage_files),
        api.DATASET_VERIFY: (api.VersionQuery, handlers.verify),
        api.MODEL_VERSION_CREATE: (api.ModelVersionCreate, handlers.create_model_version),
        api.MODEL_ALIAS_SET: (api.AliasSet, handlers.set_alias),
        api.COMPONENT_REGISTER: (api.SpecRegister, handlers.register_component),
        api.PIPELINE_REGISTER: (api.SpecRegister, handlers.register_pipeline),
    }


def _registry_settings(settings: BoxopsSettings) -> RegistrySettings:
    if isinstance(settings, RegistrySettings):
        return settings
    return RegistrySettings(**settings.model_dump(exclude_unset=True))


def _s3_clients(settings: RegistrySettings) -> Callable[[], Any] | None:
    """A factory of S3 clients for pinning s3:// versions, if asked for."""
    if not settings.pin_s3:
        return None
    import aioboto3  # only needed when S3 pinning is on

    session = aioboto3.Session(
        aws_access_key_id=settings.s3_access_key,
        aws_secret_access_key=settings.s3_secret_key,
        region_name=settings.s3_region,
    )
    return lambda: session.client("s3", endpoint_url=settings.s3_endpoint_url)
