"""/v1/datasets: datasets, their versions (managed or external), files and drift checks."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from services.gateway.ask import ask
from services.gateway.created import ask_created
from services.gateway.json_bodies import JsonRoute
from services.gateway.names import DatasetName
from services.gateway.scopes import Scope, needs
from shared.events import FileEntry
from shared.queries import DATASET_VERSION_GET
from shared.registry_api import (
    DATASET_FILES,
    DATASET_GET,
    DATASET_STAGE,
    DATASET_UPSERT,
    DATASET_VERIFY,
    DATASET_VERSION_CREATE,
    DATASET_VERSIONS,
    DATASETS_LIST,
    FILES_PER_MESSAGE,
    DatasetType,
    DatasetUpsert,
    DatasetVersionCreate,
    DatasetVersionView,
    DatasetView,
    FilesChunk,
    FilesQuery,
    ListQuery,
    NameQuery,
    Page,
    VerifyView,
    VersionQuery,
    VersionsQuery,
)
from shared.storable import Offset, Text

router = APIRouter(route_class=JsonRoute, tags=["datasets"])
Limit = Annotated[int, Query(ge=1, le=1000)]


class DatasetBody(BaseModel):
    type: DatasetType | None = Field(None, description="table, image, audio, video, text, other.")
    description: Text | None = None
    tags: list[Text] | None = None


class VersionBody(BaseModel):
    """`files` for a managed version (blobs uploaded first), or `uri` for an external one."""

    uri: Text | None = Field(None, description="s3://…, hdfs://…, gs://…, file://…, https://…")
    digest: Text | None = Field(None, description="Content digest of external data, if known.")
    files: list[FileEntry] | None = Field(None, description="Manifest of a managed version.")
    metadata: dict[str, Any] = Field(default_factory=dict)
    parents: list[Text] = Field(default_factory=list, description="NAME@VERSION it came from.")
    type: DatasetType | None = Field(None, description="Type, if the dataset is new.")


@router.get("/datasets", response_model=Page)
@needs(Scope.READ)
async def list_datasets(
    request: Request,
    limit: Limit = 50,
    offset: Offset = 0,
    prefix: Text | None = None,
    type: Text | None = None,
    tag: Text | None = None,
) -> Any:
    """Datasets by name, each with its latest version and number of versions."""
    query = ListQuery(limit=limit, offset=offset, prefix=prefix, type=type, tag=tag)
    return await ask(request, DATASETS_LIST, query)


@router.put("/datasets/{name}", response_model=DatasetView)
@needs(Scope.WRITE)
async def put_dataset(name: DatasetName, body: DatasetBody, request: Request) -> Any:
    """Create a dataset, or change its type, description or tags."""
    return await ask(request, DATASET_UPSERT, DatasetUpsert(name=name, **body.model_dump()))


@router.get("/datasets/{name}", response_model=DatasetView)
@needs(Scope.READ)
async def get_dataset(name: DatasetName, request: Request) -> Any:
    return await ask(request, DATASET_GET, NameQuery(name=name))


@router.get("/datasets/{name}/versions", response_model=Page)
@needs(Scope.READ)
async def list_versions(
    name: DatasetName,
    request: Request,
    limit: Limit = 50,
    offset: Offset = 0,
    digest: Text | None = None,
) -> Any:
    """Versions, newest first (or the one with `digest`)."""
    query = VersionsQuery(name=name, limit=limit, offset=offset, digest=digest)
    return await ask(request, DATASET_VERSIONS, query)


@router.post("/datasets/{name}/versions", response_model=DatasetVersionView)
@needs(Scope.WRITE)
async def create_version(
    name: DatasetName, body: VersionBody, request: Request, response: Response
) -> Any:
    """Record a version: 201 if new, 200 with the existing one if the content is known."""
    create = DatasetVersionCreate(dataset=name, **body.model_dump(exclude={"files"}))
    files = body.files
    if files is not None and len(files) > FILES_PER_MESSAGE:
        # A NATS message holds about 1 MiB: a long manifest goes over in chunks first.
        create.upload_id = uuid.uuid4().hex
        for seq, start in enumerate(range(0, len(files), FILES_PER_MESSAGE)):
            chunk = files[start : start + FILES_PER_MESSAGE]
            await ask(
                request, DATASET_STAGE, FilesChunk(upload_id=create.upload_id, seq=seq, files=chunk)
            )
    else:
        create.files = files
    return await ask_created(request, response, DATASET_VERSION_CREATE, create)


@router.get("/datasets/{name}/versions/{ref}", response_model=DatasetVersionView)
@needs(Scope.READ)
async def get_version(name: DatasetName, ref: str, request: Request) -> Any:
    """A version (`latest` for the newest); its files are under …/files."""
    return await ask(request, DATASET_VERSION_GET, VersionQuery(ref=f"{name}@{ref}", files=False))


@router.get("/datasets/{name}/versions/{ref}/files", response_model=Page)
@needs(Scope.READ)
async def list_files(
    name: DatasetName, ref: str, request: Request, limit: Limit = 1000, offset: Offset = 0
) -> Any:
    """A managed version's files (path, size, sha256), in path order."""
    query = FilesQuery(ref=f"{name}@{ref}", limit=limit, offset=offset)
    return await ask(request, DATASET_FILES, query)


@router.post("/datasets/{name}/versions/{ref}/verify", response_model=VerifyView)
@needs(Scope.READ)
async def verify(name: DatasetName, ref: str, request: Request) -> Any:
    """Compare what the source says now with what it said when the version was recorded."""
    return await ask(request, DATASET_VERIFY, VersionQuery(ref=f"{name}@{ref}", files=False))
