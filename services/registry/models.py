"""Models, their numbered versions and aliases."""

from dataclasses import dataclass, field
from typing import Any

from services.registry.domain import manifests, versions
from services.registry.domain.lineage import Node, parent_ref
from services.registry.domain.manifests import ManifestError
from services.registry.domain.refs import RefError, check_alias, check_name
from services.registry.errors import Invalid, NotFound
from services.registry.store import lineage as edges
from services.registry.store import models as store
from services.registry.tables import ModelRow, ModelVersionRow
from services.registry.tx import Tx
from shared.bus import now
from shared.events import FileEntry, ModelAliasSet, ModelVersionCreated


@dataclass(frozen=True)
class Draft:
    model: str
    files: list[FileEntry]
    source: str
    format: str | None = None
    framework: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    parents: list[str] = field(default_factory=list)  # lineage keys
    run_id: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Recorded:
    model: ModelRow
    version: ModelVersionRow
    created: bool


async def ensure(tx: Tx, name: str, description: str | None = None) -> ModelRow:
    found = await store.model(tx.session, name)
    if found:
        if description is not None and description != found.description:
            found.description = description
            tx.session.add(found)
        return found
    try:
        check_name(name, "model name")
    except RefError as err:
        raise Invalid(str(err)) from None
    return await store.add(
        tx.session, ModelRow(name=name, description=description or "", created_at=now())
    )


async def record(tx: Tx, draft: Draft) -> Recorded:
    """A new version, unless the same files were registered before (then that version)."""
    if not draft.files:
        raise Invalid("a model version holds at least one file")
    try:
        files = manifests.check(draft.files)
    except ManifestError as err:
        raise Invalid(str(err)) from None
    digest = manifests.digest(files)
    model = await ensure(tx, draft.model, draft.description)
    assert model.id is not None  # noqa: S101
    existing = await store.by_digest(tx.session, model.id, digest)
    if existing:
        await _link(tx, model.name, existing, draft)
        return Recorded(model, existing, False)
    previous = await store.latest(tx.session, model.id)
    row = await store.add_version(
        tx.session,
        ModelVersionRow(
            model_id=model.id,
            version=versions.next_version(previous.version if previous else None),
            digest=digest,
            files=[f.model_dump() for f in files],
            format=draft.format,
            framework=draft.framework,
            run_id=draft.run_id,
            metrics=draft.metrics,
            meta={**manifests.summary(files), **draft.metadata},
            parents=[parent_ref(p) for p in draft.parents],
            created_at=now(),
        ),
    )
    await _link(tx, model.name, row, draft)
    tx.emit(
        ModelVersionCreated(
            model=model.name,
            version=row.version,
            run_id=row.run_id,
            metrics=row.metrics,
            digest=digest,
            format=row.format,
            framework=row.framework,
            parents=row.parents,
        )
    )
    return Recorded(model, row, True)


async def _link(tx: Tx, name: str, row: ModelVersionRow, draft: Draft) -> None:
    key = Node("model", name, row.version).key
    # A run's output hangs off the run, which hangs off its inputs: no shortcut edges.
    sources = [Node("run", draft.run_id).key] if draft.run_id else list(draft.parents)
    await edges.add_edges(tx.session, [(source, key) for source in sources if source != key])


async def set_alias(tx: Tx, name: str, alias: str, version: int) -> ModelRow:
    """Point `alias` at a version; announced as model.alias.set when it moved."""
    try:
        check_alias(alias)
    except RefError as err:
        raise Invalid(str(err)) from None
    model = await store.model(tx.session, name)
    if model is None or model.id is None:
        raise NotFound(f"no model {name!r}")
    if await store.version(tx.session, model.id, version) is None:
        raise NotFound(f"model {name!r} has no version {version}")
    previous = await store.set_alias(tx.session, model.id, alias, version, now())
    if previous != version:
        tx.emit(ModelAliasSet(model=name, alias=alias, version=version, previous_version=previous))
    return model
