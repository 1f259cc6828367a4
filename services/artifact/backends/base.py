"""The port every blob backend implements: the service speaks only to this."""

from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Protocol

from services.artifact.domain import Upload
from shared.artifacts import PartDone, UploadTarget


class BlobStore(Protocol):
    async def start(self) -> None:
        """Open clients and directories; must not fail when the store is down."""

    async def close(self) -> None: ...

    async def begin(self, upload: Upload) -> tuple[Upload, UploadTarget]:
        """Prepare a staging place and say where the client sends the bytes."""

    async def finish(self, upload: Upload, sha256: str, parts: list[PartDone]) -> None:
        """Verify the staged bytes hash to `sha256`, then make them the blob `sha256`.

        Raises Refused (and keeps nothing) when they do not."""

    async def abort(self, upload: Upload) -> None:
        """Drop whatever the upload staged."""

    async def has(self, sha256: str) -> bool: ...

    async def locate(self, sha256: str, name: str | None) -> str:
        """A URL a client GETs (with Range if it likes) for the bytes."""

    async def delete(self, sha256: str) -> None: ...

    async def write_previews(self, documents: dict[str, bytes]) -> None:
        """Store blobs' preview documents (small JSON, by sha256), each beside its blob."""

    async def read_preview(self, sha256: str) -> bytes | None: ...

    def local_file(self, sha256: str) -> AbstractAsyncContextManager[Path]:
        """The blob as a local file for as long as the context lasts (previews)."""
        ...
