"""Queries about stored blobs and names, and deletes: what needs no upload."""

import json
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.artifact import store
from services.artifact.backends.base import BlobStore
from services.artifact.domain import Refused
from services.artifact.previewer import Previewer
from services.artifact.replies import answering
from shared.artifacts import (
    BlobInfo,
    BlobList,
    BlobQuery,
    DigestsQuery,
    Location,
    NameBind,
    NameList,
    NameQuery,
    Presence,
    Preview,
)
from shared.bus import now

PREVIEW_WAIT_S = 3.0


class Reads:
    def __init__(
        self, blobs: BlobStore, sessions: async_sessionmaker[AsyncSession], previewer: Previewer
    ) -> None:
        self.blobs = blobs
        self.sessions = sessions
        self.previewer = previewer

    @answering
    async def exists(self, query: DigestsQuery) -> Presence:
        """Which of these digests are stored: one call for a whole dataset."""
        async with self.sessions() as session:
            known = await store.blobs(session, query.sha256)
        wanted = list(dict.fromkeys(query.sha256))
        return Presence(
            present=[d for d in wanted if d in known], missing=[d for d in wanted if d not in known]
        )

    async def _blob(self, sha256: str) -> BlobInfo:
        async with self.sessions() as session:
            row = await store.blob(session, sha256)
        if row is None:
            raise Refused(404, f"no blob {sha256}")
        return row

    @answering
    async def stat(self, query: BlobQuery) -> Any:
        return await self._blob(query.sha256)

    @answering
    async def listing(self, query: BlobList) -> Any:
        async with self.sessions() as session:
            return await store.listing(
                session, limit=query.limit, after=query.after, name_prefix=query.name_prefix
            )

    @answering
    async def locate(self, query: BlobQuery) -> Location:
        row = await self._blob(query.sha256)
        url = await self.blobs.locate(row)
        return Location(sha256=row.sha256, size=row.size, url=url)

    @answering
    async def delete(self, query: BlobQuery) -> dict[str, str]:
        row = await self._blob(query.sha256)
        async with self.sessions() as session:
            names = await store.names_of(session, row.sha256)
            if names:
                raise Refused(409, f"blob {row.sha256} is still named by {', '.join(names)}")
            await store.drop_blob(session, row.sha256)
            await session.commit()
        await self.blobs.delete(row)
        return {"sha256": row.sha256, "state": "deleted"}

    @answering
    async def preview(self, query: BlobQuery) -> Preview:
        row = await self._blob(query.sha256)
        if row.preview_status == "pending":
            await self.previewer.wait(row.sha256, PREVIEW_WAIT_S)
            row = await self._blob(query.sha256)
        document = None
        if row.preview_status in ("ready", "failed"):
            raw = await self.blobs.read_preview(row.sha256)
            document = json.loads(raw) if raw else None
        return Preview(
            sha256=row.sha256,
            kind=row.preview_kind,
            status=row.preview_status,
            preview=document,
        )

    @answering
    async def bind(self, request: NameBind) -> Any:
        """Point a named key (e.g. runs/<id>/logs.jsonl) at a stored blob."""
        await self._blob(request.sha256)
        async with self.sessions() as session:
            await store.bind_name(session, request.key, request.sha256, now())
            await session.commit()
            return await store.name(session, request.key)

    @answering
    async def name(self, query: NameQuery) -> Any:
        async with self.sessions() as session:
            found = await store.name(session, query.key)
        if found is None:
            raise Refused(404, f"no blob named {query.key!r}")
        return found

    @answering
    async def names(self, query: NameList) -> Any:
        async with self.sessions() as session:
            return await store.names(session, query.prefix, query.limit)
