"""Datasets and their versions: recording one (from the CLI, an event or a run), finding one."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.registry.domain import manifests, versions
from services.registry.domain.lineage import Node, parent_ref
from services.registry.domain.manifests import ManifestError
from services.registry.domain.refs import RefError, check_name
from services.registry.errors import Invalid
from services.registry.store import datasets as store
from services.registry.store import lineage as edges
from services.registry.tables import DatasetRow, DatasetVersionRow
from services.registry.tx import Tx
from shared.bus import now
from shared.events import DatasetChanges, DatasetCreated, DatasetVersionCreated, FileEntry

NO_PREVIOUS = {"files": 0, "bytes": 0, "rows": 0}


@dataclass(frozen=True)
class Draft:
    """A version to record: managed (files) or external (uri), with where it came from."""

    dataset: str
    source: str  # cli | event | run
    files: list[FileEntry] | None = None
    uri: str | None = None
    digest: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    parents: list[str] = field(default_factory=list)  # dataset:NAME@N / model:NAME@N keys
    run_id: str | None = None
    pin: dict[str, Any] = field(default_factory=dict)
    type: str | None = None
    pending: bool = False  # its data is hashed after it is recorded (file://)

    @property
    def managed(self) -> bool:
        return self.files is not None


@dataclass(frozen=True)
class Recorded:
    dataset: DatasetRow
    version: DatasetVersionRow
    created: bool


@dataclass
class Known:
    """What one transaction has learnt about datasets: a batch of announcements asks the
    database once for all of them (`preload`), not several times for each."""

    datasets: dict[str, DatasetRow] = field(default_factory=dict)
    latest: dict[int, DatasetVersionRow | None] = field(default_factory=dict)
    identities: dict[tuple[int, str], DatasetVersionRow | None] = field(default_factory=dict)
    complete: set[int] = field(default_factory=set)  # every identity of these is known


def known(tx: Tx) -> Known:
    return tx.memo.setdefault("datasets", Known())


async def preload(tx: Tx, wanted: list[tuple[str, str]]) -> None:
    """Load, in three queries, the datasets, latest versions and identities `record` will
    look for when recording versions with these (dataset name, identity) pairs."""
    memo = known(tx)
    for row in await store.named(tx.session, sorted({name for name, _ in wanted})):
        memo.datasets[row.name] = row
    ids_of = {row.name: row.id for row in memo.datasets.values() if row.id is not None}
    memo.latest |= await store.latest_of(tx.session, list(ids_of.values()))
    pairs = [(ids_of[name], identity) for name, identity in wanted if name in ids_of]
    found = await store.by_identities(tx.session, pairs)
    for pair in pairs:
        memo.identities[pair] = found.get(pair)


async def ensure(
    tx: Tx, name: str, type: str | None = None, *, description: str = "", tags: Sequence[str] = ()
) -> DatasetRow:
    """The dataset, created (and announced) on first use."""
    memo = known(tx)
    found = memo.datasets.get(name) or await store.dataset(tx.session, name)
    if found:
        memo.datasets[name] = found
        return found
    try:
        check_name(name, "dataset name")
    except RefError as err:
        raise Invalid(str(err)) from None
    row = DatasetRow(
        name=name,
        type=type or "other",
        description=description,
        tags=sorted(set(tags)),
        created_at=now(),
    )
    await store.add(tx.session, row)
    assert row.id is not None  # noqa: S101
    memo.datasets[name], memo.latest[row.id] = row, None
    memo.complete.add(row.id)  # new: it has no versions yet
    tx.emit(DatasetCreated(dataset=name, type=row.type, description=description, tags=row.tags))
    return row


async def upsert(
    tx: Tx, name: str, type: str | None, description: str | None, tags: list[str] | None
) -> DatasetRow:
    """Create the dataset with these fields, or change those given of an existing one."""
    found = await store.dataset(tx.session, name)
    if found is None:
        return await ensure(tx, name, type, description=description or "", tags=tags or [])
    if type is not None:
        found.type = type
    if description is not None:
        found.description = description
    if tags is not None:
        found.tags = sorted(set(tags))
    tx.session.add(found)
    return found


async def _by_identity(tx: Tx, dataset_id: int, identity: str) -> DatasetVersionRow | None:
    memo = known(tx)
    if (dataset_id, identity) in memo.identities or dataset_id in memo.complete:
        return memo.identities.get((dataset_id, identity))
    return await store.by_identity(tx.session, dataset_id, identity)


async def _latest(tx: Tx, dataset_id: int) -> DatasetVersionRow | None:
    memo = known(tx)
    if dataset_id not in memo.latest:
        memo.latest[dataset_id] = await store.latest(tx.session, dataset_id)
    return memo.latest[dataset_id]


def identity_of(draft: Draft, digest: str | None = None) -> str:
    """What makes two drafts the same version (see versions.identity)."""
    if draft.pending:
        return versions.pending_identity(digest=draft.digest, uri=draft.uri or "")
    if draft.files is not None and digest is None:
        digest = manifests.digest(draft.files)
    return versions.identity(digest=digest or draft.digest, pin=draft.pin, uri=draft.uri)


async def record(tx: Tx, draft: Draft) -> Recorded:
    """Record a version unless one with the same identity exists; the same content (or the
    same pinned external data) never makes two versions."""
    files = checked(draft.files) if draft.files is not None else []
    digest = manifests.digest(files) if draft.managed else draft.digest
    identity = identity_of(draft, digest)
    metadata = {**(manifests.summary(files) if draft.managed else {}), **draft.metadata}
    guessed = draft.type or manifests.guess_type(_paths(draft, files), metadata)
    dataset = await ensure(tx, draft.dataset, guessed)
    assert dataset.id is not None  # noqa: S101
    existing = await _by_identity(tx, dataset.id, identity)
    if existing:
        await _link(tx, dataset.name, existing, draft)
        return Recorded(dataset, existing, False)
    latest = await _latest(tx, dataset.id)
    row = DatasetVersionRow(
        dataset_id=dataset.id,
        version=versions.next_version(latest.version if latest else None),
        identity=identity,
        digest=digest,
        uri=draft.uri,
        managed=draft.managed,
        file_count=len(files) if draft.managed else int(metadata.get("files") or 0),
        meta=metadata,
        pin=draft.pin,
        parents=[parent_ref(p) for p in draft.parents],
        run_id=draft.run_id,
        source=draft.source,
        created_at=now(),
        state=versions.PINNING if draft.pending else versions.PINNED,
    )
    if not draft.pending:  # a pending version is compared and announced once it is hashed
        listing = manifests.signatures(files) if draft.managed else draft.pin.get("listing")
        await _compare(tx, row, latest, listing)
        tx.emit(announcement(dataset.name, row))
    await store.add_version(tx.session, row, files)
    memo = known(tx)
    memo.latest[dataset.id] = memo.identities[(dataset.id, identity)] = row
    await _link(tx, dataset.name, row, draft)
    return Recorded(dataset, row, True)


async def _compare(
    tx: Tx, row: DatasetVersionRow, latest: DatasetVersionRow | None, listing: Any
) -> None:
    """The version's changes since the newest pinned version before it."""
    previous = latest
    if latest is not None and (latest.state != versions.PINNED or latest.version >= row.version):
        previous = await store.latest_pinned(tx.session, row.dataset_id, below=row.version)
    changes = manifests.changes(
        await _signatures(tx.session, previous) if previous else {},
        listing,
        previous.meta if previous else NO_PREVIOUS,
        row.meta,
    )
    row.changes = changes.model_dump()
    row.previous_version = previous.version if previous else None


async def settle(
    tx: Tx, version_id: int, outcome: tuple[dict[str, Any], dict[str, Any]] | str
) -> None:
    """A pending version's data hashed (its pin and metadata) or not (the reason): it is
    pinned and announced, or failed with the reason; the identity of a failed one is freed."""
    row = await store.version_by_id(tx.session, version_id)
    if row is None or row.state != versions.PINNING:
        return  # settled already (a round that was slow to notice)
    dataset = await store.dataset_by_id(tx.session, row.dataset_id)
    if isinstance(outcome, str):
        return _fail(tx, row, outcome)
    pin, extracted = outcome
    problem = versions.digest_problem(row.digest, pin["digest"])
    same = await store.by_identity(tx.session, row.dataset_id, pin["digest"])
    if problem is None and same is not None and same.id != row.id:
        problem = f"the same data as version {same.version}"
    if problem:
        return _fail(tx, row, problem)
    row.identity = row.digest = pin["digest"]
    row.pin, row.meta = pin, {**extracted, **row.meta}
    row.file_count, row.state = int(extracted.get("files") or 0), versions.PINNED
    await _compare(tx, row, await store.latest(tx.session, row.dataset_id), pin.get("listing"))
    if dataset.type == "other":
        dataset.type = manifests.guess_type(list(pin.get("listing") or []), row.meta)
        tx.session.add(dataset)
    tx.session.add(row)
    tx.emit(announcement(dataset.name, row))


def _fail(tx: Tx, row: DatasetVersionRow, reason: str) -> None:
    row.state, row.state_reason = versions.FAILED, reason
    row.identity = f"failed:{row.id}"  # another version may hold this data after all
    tx.session.add(row)


def announcement(name: str, row: DatasetVersionRow) -> DatasetVersionCreated:
    return DatasetVersionCreated(
        dataset=name,
        version=row.version,
        uri=row.uri,
        digest=row.digest,
        previous_version=row.previous_version,
        run_id=row.run_id,
        metadata=row.meta,
        managed=row.managed,
        parents=row.parents,
        changes=DatasetChanges.model_validate(row.changes) if row.changes else None,
    )


def checked(files: list[FileEntry]) -> list[FileEntry]:
    if not files:
        raise Invalid("a managed version holds at least one file")
    try:
        return manifests.check(files)
    except ManifestError as err:
        raise Invalid(str(err)) from None


def _paths(draft: Draft, files: list[FileEntry]) -> list[str]:
    if files:
        return [f.path for f in files]
    listing = draft.pin.get("listing")
    return list(listing) if isinstance(listing, dict) else [draft.uri or ""]


async def _signatures(session: AsyncSession, row: DatasetVersionRow) -> dict[str, str] | None:
    """What the previous version's files were, in the form its successor is compared in."""
    if row.managed:
        assert row.id is not None  # noqa: S101
        return manifests.signatures(await store.files(session, row.id))
    listing = row.pin.get("listing")
    return listing if isinstance(listing, dict) else None


async def _link(tx: Tx, name: str, row: DatasetVersionRow, draft: Draft) -> None:
    """Lineage: parents → version, producing run → version (also for a version seen before)."""
    key = Node("dataset", name, row.version).key
    # A run's output hangs off the run, which hangs off its inputs: no shortcut edges.
    sources = [Node("run", draft.run_id).key] if draft.run_id else list(draft.parents)
    await edges.add_edges(tx.session, [(source, key) for source in sources if source != key])
