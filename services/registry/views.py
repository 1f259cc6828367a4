"""Rows as the views the registry answers with."""

from typing import Any

from pydantic import BaseModel

from services.registry.tables import (
    ComponentRow,
    DatasetRow,
    DatasetVersionRow,
    ModelRow,
    ModelVersionRow,
    PipelineRow,
)
from shared.events import DatasetChanges, FileEntry
from shared.registry_api import (
    ComponentView,
    DatasetVersionView,
    DatasetView,
    ModelVersionView,
    ModelView,
    PinnedComponent,
    PipelineView,
)


def dataset(row: DatasetRow, latest: int | None, count: int) -> DatasetView:
    return DatasetView(
        name=row.name,
        type=row.type,
        description=row.description,
        tags=row.tags,
        created_at=row.created_at,
        latest_version=latest,
        versions=count,
    )


def dataset_version(
    name: str, row: DatasetVersionRow, files: list[FileEntry] | None = None
) -> DatasetVersionView:
    pin = {k: v for k, v in row.pin.items() if k != "listing"}  # listings can be long
    return DatasetVersionView(
        dataset=name,
        version=row.version,
        managed=row.managed,
        uri=row.uri,
        digest=row.digest,
        previous_version=row.previous_version,
        run_id=row.run_id,
        parents=row.parents,
        metadata=row.meta,
        changes=DatasetChanges.model_validate(row.changes) if row.changes else None,
        pin=pin,
        source=row.source,
        created_at=row.created_at,
        file_count=row.file_count,
        files=files or [],
        state=row.state,
        state_reason=row.state_reason,
    )


def model(row: ModelRow, latest: int | None, count: int, aliases: dict[str, int]) -> ModelView:
    return ModelView(
        name=row.name,
        description=row.description,
        tags=row.tags,
        created_at=row.created_at,
        latest_version=latest,
        versions=count,
        aliases=aliases,
    )


def model_version(name: str, row: ModelVersionRow, aliases: list[str]) -> ModelVersionView:
    return ModelVersionView(
        model=name,
        version=row.version,
        digest=row.digest,
        files=[FileEntry.model_validate(f) for f in row.files],
        format=row.format,
        framework=row.framework,
        run_id=row.run_id,
        metrics=row.metrics,
        metadata=row.meta,
        parents=row.parents,
        aliases=aliases,
        created_at=row.created_at,
    )


def component(row: ComponentRow) -> ComponentView:
    return ComponentView(
        name=row.name,
        version=row.version,
        digest=row.digest,
        type=row.type,
        description=row.description,
        spec=row.spec,
        created_at=row.created_at,
    )


def pipeline(row: PipelineRow, components: dict[str, ComponentRow]) -> PipelineView:
    return PipelineView(
        name=row.name,
        version=row.version,
        digest=row.digest,
        description=row.description,
        spec=row.spec,
        components={step: pinned(c) for step, c in components.items()},
        created_at=row.created_at,
    )


def pinned(row: ComponentRow) -> PinnedComponent:
    return PinnedComponent(name=row.name, version=row.version, digest=row.digest, spec=row.spec)


def dump(view: Any) -> Any:
    return view.model_dump(mode="json") if isinstance(view, BaseModel) else view
