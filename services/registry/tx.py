"""One write: state and the events it causes commit together, then the events are published."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.bus import Bus, now
from shared.events import Event
from shared.outbox import Outbox, already_processed, stage


@dataclass
class Tx:
    session: AsyncSession
    events: list[Event] = field(default_factory=list)

    def emit(self, event: Event) -> None:
        self.events.append(event)

    async def seen(self, consumer: str, event_id: str) -> bool:
        return await already_processed(self.session, consumer, event_id, now=now())


class Writer:
    def __init__(
        self, bus: Bus, sessions: async_sessionmaker[AsyncSession], outbox: Outbox
    ) -> None:
        self.bus = bus
        self.sessions = sessions
        self.outbox = outbox
        # One writer per process: version numbers are "latest + 1", and two interleaved
        # writers would both take the same number (the unique index would refuse the second).
        self.lock = asyncio.Lock()

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[Tx]:
        async with self.lock, self.sessions() as session:
            tx = Tx(session)
            yield tx
            ids = stage(session, [self.bus.envelope(e) for e in tx.events], now=now())
            await session.commit()
        await self.outbox.publish(ids)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session
