"""Request/reply contracts of the registry: what it answers over NATS and the gateway returns.

The subjects of the scheduler's lookups (COMPONENT_GET, PIPELINE_GET, DATASET_VERSION_GET,
MODEL_VERSION_GET) live in shared.queries; everything else the registry answers is here. Every
reply is a `shared.queries.Reply` whose result is one of the views below (or a Page of them):
the lookups answer with a ComponentView, PipelineView, DatasetVersionView and
ModelVersionView, which the scheduler parses once, as it receives them.
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from shared.events import DatasetChanges, FileEntry
from shared.storable import Offset, Text, VersionNumber

DATASETS_LIST = "svc.registry.datasets.list"
DATASET_GET = "svc.registry.datasets.get"
DATASET_UPSERT = "svc.registry.datasets.upsert"
DATASET_VERSIONS = "svc.registry.datasets.versions"
DATASET_VERSION_CREATE = "svc.registry.datasets.version.create"
DATASET_FILES = "svc.registry.datasets.files"
DATASET_STAGE = "svc.registry.datasets.stage"
DATASET_VERIFY = "svc.registry.datasets.verify"
MODELS_LIST = "svc.registry.models.list"
MODEL_GET = "svc.registry.models.get"
MODEL_VERSIONS = "svc.registry.models.versions"
MODEL_VERSION_CREATE = "svc.registry.models.version.create"
MODEL_ALIAS_SET = "svc.registry.models.alias"
COMPONENTS_LIST = "svc.registry.components.list"
COMPONENT_VERSIONS = "svc.registry.components.versions"
COMPONENT_REGISTER = "svc.registry.components.register"
PIPELINES_LIST = "svc.registry.pipelines.list"
PIPELINE_VERSIONS = "svc.registry.pipelines.versions"
PIPELINE_REGISTER = "svc.registry.pipelines.register"
LINEAGE_GET = "svc.registry.lineage"

DatasetType = Literal["table", "image", "audio", "video", "text", "other"]
# Files per request between the gateway and the registry: a NATS message holds 1 MiB.
FILES_PER_MESSAGE = 2000


# --- requests ------------------------------------------------------------------------------


class ListQuery(BaseModel):
    limit: int = Field(50, ge=1, le=1000)
    offset: Offset = 0
    prefix: Text | None = Field(None, description="Only names starting with this.")
    type: Text | None = Field(None, description="Only datasets or components of this type.")
    tag: Text | None = Field(None, description="Only datasets or models with this tag.")


class VersionsQuery(BaseModel):
    name: str
    limit: int = Field(50, ge=1, le=1000)
    offset: Offset = 0
    digest: Text | None = Field(None, description="Only the version with this digest.")


class NameQuery(BaseModel):
    name: str


class VersionQuery(BaseModel):
    ref: str = Field(description="NAME, NAME@VERSION or NAME@ALIAS.")
    files: bool = Field(True, description="Include the file list.")


class FilesQuery(BaseModel):
    ref: str
    limit: int = Field(1000, ge=1, le=FILES_PER_MESSAGE)
    offset: Offset = 0


class DatasetUpsert(BaseModel):
    name: str
    type: DatasetType | None = Field(None, description="Kept as it is when absent.")
    description: str | None = None
    tags: list[str] | None = None


class DatasetVersionCreate(BaseModel):
    """A managed version (files in the artifact store) or an external one (uri)."""

    dataset: str
    uri: str | None = Field(None, description="Where an external version lives.")
    digest: str | None = Field(None, description="Content digest, if known (external).")
    files: list[FileEntry] | None = Field(None, description="Manifest of a managed version.")
    upload_id: str | None = Field(None, description="Manifest staged in chunks beforehand.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="User or extracted.")
    parents: list[str] = Field(default_factory=list, description="NAME@VERSION it came from.")
    run_id: str | None = None
    type: DatasetType | None = Field(None, description="Type of a dataset created on the way.")


class FilesChunk(BaseModel):
    upload_id: str
    seq: int = Field(ge=0)
    files: list[FileEntry]


class ModelVersionCreate(BaseModel):
    model: str
    files: list[FileEntry] = Field(min_length=1)
    format: str | None = None
    framework: str | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    parents: list[str] = Field(default_factory=list)
    run_id: str | None = None
    description: str | None = None


class AliasSet(BaseModel):
    model: str
    alias: str
    version: VersionNumber


class SpecRegister(BaseModel):
    text: str = Field(description="The YAML spec (kind: component or kind: pipeline).")


class LineageQuery(BaseModel):
    node: str = Field(description="dataset:NAME@REF, model:NAME@REF or run:ID.")
    depth: int = Field(5, ge=1, le=50)


# --- views ---------------------------------------------------------------------------------


class Page(BaseModel):
    items: list[Any]
    total: int
    limit: int
    offset: int


class DatasetView(BaseModel):
    name: str
    type: str
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    created_at: datetime
    latest_version: int | None = None
    versions: int = 0


class DatasetVersionView(BaseModel):
    dataset: str
    version: int
    managed: bool
    uri: str | None = None
    digest: str | None = None
    previous_version: int | None = None
    run_id: str | None = None
    parents: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    changes: DatasetChanges | None = None
    pin: dict[str, Any] = Field(default_factory=dict, description="What the source said then.")
    source: str = Field("", description="cli, event, run: how it was recorded.")
    created_at: datetime
    file_count: int = 0
    files: list[FileEntry] = Field(default_factory=list)
    created: bool | None = Field(None, description="On registration: whether it is new.")
    state: Literal["pinning", "pinned", "failed"] = Field(
        "pinned", description="pinning while boxops hashes external file:// data in the background."
    )
    state_reason: str | None = Field(None, description="Why a failed version failed.")


class VerifyView(BaseModel):
    ref: str
    uri: str | None
    status: Literal["ok", "drift", "unpinned", "unreachable", "pinning", "failed"]
    differences: list[str] = Field(default_factory=list)
    recorded: dict[str, Any] = Field(default_factory=dict)
    current: dict[str, Any] = Field(default_factory=dict)


class ModelView(BaseModel):
    name: str
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    created_at: datetime
    latest_version: int | None = None
    versions: int = 0
    aliases: dict[str, int] = Field(default_factory=dict)


class ModelVersionView(BaseModel):
    model: str
    version: int
    digest: str
    files: list[FileEntry]
    format: str | None = None
    framework: str | None = None
    run_id: str | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    parents: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
    created_at: datetime
    created: bool | None = None


class PinnedComponent(BaseModel):
    """A component version as a pipeline pins it; what a run of it needs."""

    name: str
    version: int
    digest: str
    spec: dict[str, Any]

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


class ComponentView(PinnedComponent):
    type: str
    description: str = ""
    created_at: datetime
    created: bool | None = None


class PipelineView(BaseModel):
    name: str
    version: int
    digest: str
    description: str = ""
    spec: dict[str, Any]
    components: dict[str, PinnedComponent] = Field(description="Step → component version.")
    created_at: datetime
    created: bool | None = None

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


class LineageNode(BaseModel):
    kind: Literal["dataset", "model", "run"]
    ref: str = Field(description="NAME@VERSION, or the run id.")
    label: str = Field("", description="For runs: component or pipeline it ran.")
    children: list["LineageNode"] = Field(default_factory=list)
    truncated: bool = Field(False, description="More lies beyond the depth asked for.")
    repeated: bool = Field(False, description="Already on this path: a cycle.")
    edges_in: int | None = Field(None, description="Edges into it, shown or not: its sources.")
    edges_out: int | None = Field(None, description="Edges out of it, shown or not: its uses.")


class LineageView(BaseModel):
    root: LineageNode
    upstream: list[LineageNode] = Field(description="What it came from.")
    downstream: list[LineageNode] = Field(description="What came from it.")
