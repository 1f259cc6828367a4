"""dataset.version.created from other systems: recorded as external versions, idempotently.

The registry's own announcements come back on the same subject (one subscription sees
both); they carry the registry as their source and are skipped.
"""

import asyncio
import logging
from dataclasses import dataclass, replace
from typing import Any

from pydantic import field_validator
from pydantic_core import PydanticCustomError

from services.registry import datasets
from services.registry.domain.refs import RefError, check_name
from services.registry.errors import CatalogError
from services.registry.lookup import parent_keys
from services.registry.pinning import Pinning
from services.registry.pins import Pinner, Unpinnable
from services.registry.tx import Writer
from shared.bus import Bus
from shared.envelope import Envelope, body_for, headers_for
from shared.events import DatasetVersionCreated

log = logging.getLogger(__name__)
CONSUMER = "dataset.version.created"
PINS_AT_ONCE = 32


class Announced(DatasetVersionCreated):
    """The contract (which refuses a URI that does not parse, or none for a version not
    yet numbered) as the registry reads it: with a name it can keep.

    Anything else cannot become a version however often it is retried: it is dead-lettered
    with the reason when it is read."""

    @field_validator("dataset")
    @classmethod
    def _name(cls, name: str) -> str:
        try:
            return check_name(name, "dataset name")
        except RefError as err:
            raise _refused(err) from None


def _draft(
    envelope: Envelope[Announced], pinned: tuple[dict[str, Any], dict[str, Any]] | None
) -> datasets.Draft:
    data = envelope.data
    pin, extracted = pinned or ({}, {})
    return datasets.Draft(
        dataset=data.dataset,
        source="event",
        uri=data.uri,
        digest=data.digest,
        metadata={**extracted, **data.metadata},
        run_id=data.run_id,
        pin=pin,
        pending=pinned is None,
    )


def _refused(reason: object) -> PydanticCustomError:
    """The reason as it is, without pydantic's 'Value error, ' in front."""
    return PydanticCustomError("unrecordable", "{reason}", {"reason": str(reason)})


@dataclass
class External:
    bus: Bus
    writer: Writer
    pinner: Pinner
    pinning: Pinning

    async def on_announced(self, envelopes: list[Envelope[Announced]]) -> None:
        """Pin what can be pinned cheaply (outside the transaction), then record the batch at
        once; file:// data is recorded as pinning and hashed in the background."""
        rejected: list[tuple[Envelope[Announced], str]] = []
        todo = []
        for envelope in filter(self._foreign, envelopes):
            try:
                self.pinner.check(envelope.data.uri or "")
                todo.append(envelope)
            except Unpinnable as err:
                rejected.append((envelope, str(err)))  # outside the roots: nothing is read
        drafts = [_draft(e, pin) for e, pin in zip(todo, await self._pins(todo), strict=True)]
        if todo:
            await self._record(todo, drafts, rejected)
        for envelope, reason in rejected:
            # Checked before any write: retrying cannot help, so it is kept with the reason.
            await self.bus.dead_letter(CONSUMER, body_for(envelope), headers_for(envelope), reason)
        if any(draft.pending for draft in drafts):
            self.pinning.poke()

    async def _record(
        self,
        todo: list[Envelope[Announced]],
        drafts: list[datasets.Draft],
        rejected: list[tuple[Envelope[Announced], str]],
    ) -> None:
        refused: list[str] = []  # marked processed by `unseen`, then refused: unmarked
        async with self.writer.writing() as tx:
            fresh = await tx.unseen(CONSUMER, [e.id for e in todo])
            wanted = [(d.dataset, datasets.identity_of(d)) for d in drafts]
            await datasets.preload(tx, wanted)
            for envelope, draft in zip(todo, drafts, strict=True):
                if envelope.id not in fresh:
                    continue
                fresh.discard(envelope.id)  # the same event twice in one batch: once
                try:
                    parents = await parent_keys(tx.session, envelope.data.parents)
                    await datasets.record(tx, replace(draft, parents=parents))
                except CatalogError as err:
                    rejected.append((envelope, str(err)))
                    refused.append(envelope.id)
            await tx.refused(CONSUMER, refused)

    def _foreign(self, envelope: Envelope[Announced]) -> bool:
        """Not one of the registry's own announcements, and something to record."""
        return envelope.source != self.bus.source and envelope.data.uri is not None

    async def _pins(
        self, envelopes: list[Envelope[Announced]]
    ) -> list[tuple[dict[str, Any], dict[str, Any]] | None]:
        """Each one's pin, or None for data hashed later (in the background)."""
        gate = asyncio.Semaphore(PINS_AT_ONCE)

        async def pin(data: Announced) -> tuple[dict[str, Any], dict[str, Any]] | None:
            if self.pinner.reads_data(data.uri or "", data.digest):
                return None
            async with gate:
                return await self.pinner.pin(data.uri or "")

        return list(await asyncio.gather(*(pin(e.data) for e in envelopes)))
