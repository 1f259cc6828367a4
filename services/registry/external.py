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
from services.registry.pins import Pinner
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
    envelope: Envelope[Announced], pin: dict[str, Any], extracted: dict[str, Any]
) -> datasets.Draft:
    data = envelope.data
    return datasets.Draft(
        dataset=data.dataset,
        source="event",
        uri=data.uri,
        digest=data.digest,
        metadata={**extracted, **data.metadata},
        run_id=data.run_id,
        pin=pin,
    )


def _refused(reason: object) -> PydanticCustomError:
    """The reason as it is, without pydantic's 'Value error, ' in front."""
    return PydanticCustomError("unrecordable", "{reason}", {"reason": str(reason)})


@dataclass
class External:
    bus: Bus
    writer: Writer
    pinner: Pinner

    async def on_announced(self, envelopes: list[Envelope[Announced]]) -> None:
        """Pin what can be pinned (outside the transaction), then record the batch at once."""
        todo = [e for e in envelopes if self._foreign(e)]
        if not todo:
            return  # only the registry's own announcements: nothing to write
        drafts = [_draft(e, *pin) for e, pin in zip(todo, await self._pins(todo), strict=True)]
        rejected: list[tuple[Envelope[Announced], str]] = []
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
            await tx.refused(CONSUMER, [envelope.id for envelope, _ in rejected])
        for envelope, reason in rejected:
            # Checked before any write: retrying cannot help, so it is kept with the reason.
            await self.bus.dead_letter(CONSUMER, body_for(envelope), headers_for(envelope), reason)

    def _foreign(self, envelope: Envelope[Announced]) -> bool:
        """Not one of the registry's own announcements, and something to record."""
        return envelope.source != self.bus.source and envelope.data.uri is not None

    async def _pins(
        self, envelopes: list[Envelope[Announced]]
    ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        gate = asyncio.Semaphore(PINS_AT_ONCE)

        async def pin(uri: str) -> tuple[dict[str, Any], dict[str, Any]]:
            async with gate:
                return await self.pinner.pin(uri)

        return list(await asyncio.gather(*(pin(e.data.uri or "") for e in envelopes)))
