"""The registry's handlers: a request or event in → the use case in one transaction → reply."""

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from faststream.nats import NatsBroker

from services.registry import blobs, datasets, lookup, models, reads, runs, specs, views
from services.registry.domain import versions
from services.registry.errors import CatalogError, Invalid, Unavailable
from services.registry.pinning import Pinning
from services.registry.pins import Pinner, Unpinnable
from services.registry.store import datasets as dataset_store
from services.registry.tx import Writer
from shared.bus import now
from shared.envelope import Envelope
from shared.events import FileEntry, RunCompleted
from shared.internal_errors import internal_error
from shared.nats_adapter import NatsAdapter
from shared.queries import RefQuery, Reply
from shared.registry_api import (
    AliasSet,
    DatasetUpsert,
    DatasetVersionCreate,
    FilesChunk,
    ModelVersionCreate,
    NameQuery,
    SpecRegister,
    VerifyView,
    VersionQuery,
)

log = logging.getLogger(__name__)
REPLY_MARGIN = 4096  # bytes a reply's envelope adds to its result
ASK_S = 10.0  # how long the artifact service gets to say which blobs it holds
NAMED = 20  # missing files named in a refusal


class Handlers:
    def __init__(
        self,
        broker: NatsBroker,
        writer: Writer,
        pinner: Pinner,
        pinning: Pinning,
        staged_ttl_s: float,
    ) -> None:
        self.broker = broker
        self.writer = writer
        self.pinner = pinner
        self.pinning = pinning
        self.staged_ttl = timedelta(seconds=staged_ttl_s)

    async def answer(self, work: Callable[[], Awaitable[Any]]) -> Reply:
        """A result, or the refusal with its status; a reply too big for NATS says so."""
        try:
            result = views.dump(await work())
        except CatalogError as err:
            problems = {"problems": err.problems} if err.problems else None
            return Reply(ok=False, status=err.status, error=str(err), result=problems)
        except Exception:
            # The asker gets an answer now rather than its timeout; the log has the trace.
            return Reply(ok=False, status=500, error=internal_error(log, "registry request"))
        size = len(json.dumps(result, default=str))
        limit = self._max_payload()
        if size + REPLY_MARGIN > limit:
            return Reply(
                ok=False,
                status=413,
                error=f"the answer ({size} bytes) exceeds what NATS carries ({limit} bytes); "
                "page through the version's files instead",
            )
        return Reply(result=result)

    def _max_payload(self) -> int:
        return NatsAdapter(self.broker).max_payload

    async def read(self, query: Callable[..., Awaitable[Any]], *args: Any) -> Reply:
        async def work() -> Any:
            async with self.writer.reading() as session:
                return await query(session, *args)

        return await self.answer(work)

    # --- datasets ---------------------------------------------------------------------------

    async def upsert_dataset(self, body: DatasetUpsert) -> Reply:
        async def work() -> Any:
            async with self.writer.writing() as tx:
                await datasets.upsert(tx, body.name, body.type, body.description, body.tags)
            async with self.writer.reading() as session:
                return await reads.dataset(session, NameQuery(name=body.name))

        return await self.answer(work)

    async def create_dataset_version(self, body: DatasetVersionCreate) -> Reply:
        """A managed version (its manifest inline or staged) or an external one (pinned)."""

        async def work() -> Any:
            pin, extracted = await self._pin(body.uri, body.digest)
            files = body.files
            if body.upload_id:
                async with self.writer.reading() as session:
                    files = await dataset_store.staged(session, body.upload_id)
            await self._stored(files or [])
            async with self.writer.writing() as tx:
                if body.upload_id:
                    await dataset_store.drop_staged(
                        tx.session, upload_id=body.upload_id, before=now() - self.staged_ttl
                    )
                draft = datasets.Draft(
                    dataset=body.dataset,
                    source="api",
                    files=files,
                    uri=body.uri,
                    digest=body.digest,
                    metadata={**extracted, **body.metadata},
                    parents=await lookup.parent_keys(tx.session, body.parents),
                    run_id=body.run_id,
                    pin=pin,
                    type=body.type,
                    pending=body.uri is not None and self.pinner.reads_data(body.uri, body.digest),
                )
                recorded = await datasets.record(tx, draft)
            if draft.pending:
                self.pinning.poke()
            view = views.dataset_version(recorded.dataset.name, recorded.version)
            return view.model_copy(update={"created": recorded.created})

        return await self.answer(work)

    async def _pin(
        self, uri: str | None, digest: str | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """What the source says now; nothing yet for data hashed in the background."""
        if uri is None:
            return {}, {}
        try:
            self.pinner.check(uri)
            if self.pinner.reads_data(uri, digest):
                return {}, {}
            return await self.pinner.pin(uri)
        except Unpinnable as err:  # outside the external file roots
            raise Invalid(str(err)) from None
        except ValueError as err:  # the URI does not parse
            raise Invalid(str(err)) from None

    async def stage_files(self, chunk: FilesChunk) -> Reply:
        async def work() -> Any:
            datasets.checked(chunk.files)  # refused before it is stored, as a whole one is
            async with self.writer.writing() as tx:
                await dataset_store.stage(
                    tx.session, chunk.upload_id, chunk.seq, chunk.files, now()
                )
            return {"upload_id": chunk.upload_id, "seq": chunk.seq, "files": len(chunk.files)}

        return await self.answer(work)

    async def verify(self, query: VersionQuery) -> Reply:
        """Does the data behind the version still match what was pinned at registration?"""

        async def work() -> Any:
            async with self.writer.reading() as session:
                dataset, row = await lookup.dataset_version(session, query.ref)
                files = await dataset_store.files(session, row.id or 0) if row.managed else []
            ref = f"{dataset.name}@{row.version}"
            if row.managed or row.uri is None:
                return await self._verify_blobs(ref, files)
            if row.state != versions.PINNED:  # still hashing, or never could: nothing to compare
                reasons = [row.state_reason] if row.state_reason else []
                return VerifyView(ref=ref, uri=row.uri, status=row.state, differences=reasons)
            current, _ = await self.pinner.pin(row.uri)
            found = versions.drift(row.pin, current)
            return VerifyView(
                ref=ref,
                uri=row.uri,
                status=found.status,
                differences=found.differences,
                recorded=_short(row.pin),
                current=_short(current),
            )

        return await self.answer(work)

    async def _stored(self, files: list[FileEntry]) -> None:
        """Refuse a version whose files the artifact store does not hold: it could not be
        pulled. One question for all of them, once the manifest itself is well-formed."""
        if not files:
            return
        datasets.checked(files)
        try:
            absent = set(await blobs.missing(self.broker, [f.sha256 for f in files], ASK_S))
        except blobs.Unanswered as err:
            raise Unavailable(f"cannot check that the files are stored: {err}") from None
        gone = [f"{f.path} (sha256 {f.sha256})" for f in files if f.sha256 in absent]
        if gone:
            listed = ", ".join(gone[:NAMED]) + (
                f" and {len(gone) - NAMED} more" if len(gone) > NAMED else ""
            )
            raise Invalid(
                f"{len(gone)} file(s) not in the artifact store (push them first): {listed}"
            )

    async def _verify_blobs(self, ref: str, files: list[FileEntry]) -> VerifyView:
        """A managed version's files cannot change (they are stored by digest), but they
        can be deleted from the store: each must still be there."""
        try:
            absent = set(await blobs.missing(self.broker, [f.sha256 for f in files], ASK_S))
        except blobs.Unanswered as err:
            return VerifyView(ref=ref, uri=None, status="unreachable", differences=[str(err)])
        gone = [f"missing {f.path} (sha256 {f.sha256})" for f in files if f.sha256 in absent]
        return VerifyView(ref=ref, uri=None, status="drift" if gone else "ok", differences=gone)

    # --- models -----------------------------------------------------------------------------

    async def create_model_version(self, body: ModelVersionCreate) -> Reply:
        async def work() -> Any:
            await self._stored(body.files)
            async with self.writer.writing() as tx:
                draft = models.Draft(
                    model=body.model,
                    files=body.files,
                    source="api",
                    format=body.format,
                    framework=body.framework,
                    metrics=body.metrics,
                    metadata=body.metadata,
                    parents=await lookup.parent_keys(tx.session, body.parents),
                    run_id=body.run_id,
                    description=body.description,
                )
                recorded = await models.record(tx, draft)
            async with self.writer.reading() as session:
                ref = f"{recorded.model.name}@{recorded.version.version}"
                view = await reads.model_version(session, RefQuery(ref=ref))
            return view.model_copy(update={"created": recorded.created})

        return await self.answer(work)

    async def set_alias(self, body: AliasSet) -> Reply:
        async def work() -> Any:
            async with self.writer.writing() as tx:
                await models.set_alias(tx, body.model, body.alias, body.version)
            async with self.writer.reading() as session:
                return await reads.model(session, NameQuery(name=body.model))

        return await self.answer(work)

    # --- components and pipelines -----------------------------------------------------------

    async def register_component(self, body: SpecRegister) -> Reply:
        async def work() -> Any:
            async with self.writer.writing() as tx:
                row, created = await specs.register_component(tx, body.text)
            return views.component(row).model_copy(update={"created": created})

        return await self.answer(work)

    async def register_pipeline(self, body: SpecRegister) -> Reply:
        async def work() -> Any:
            async with self.writer.writing() as tx:
                row, components, created = await specs.register_pipeline(tx, body.text)
            return views.pipeline(row, components).model_copy(update={"created": created})

        return await self.answer(work)

    # --- events -----------------------------------------------------------------------------

    async def on_run_completed(self, envelope: Envelope[RunCompleted]) -> None:
        """Record the versions a run produced and its place in the lineage graph."""
        # What the run produced is as deep in a chain of triggers as the run itself.
        async with self.writer.writing(depth=envelope.causation_depth) as tx:
            if await tx.seen("run.completed", envelope.id):
                return
            await runs.record(tx, envelope.data)


def _short(pin: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in pin.items() if k != "listing"}
