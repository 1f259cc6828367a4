"""The port every blob backend implements: the service speaks only to this."""

from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Protocol

from services.artifact.domain import Upload
from shared.artifacts import BlobInfo, PartDone, UploadTarget


class BlobStore(Protocol):
    async def start(self) -> None:
        """Open clients and directories; must not fail when the store is down."""

    async def close(self) -> None: ...

    async def begin(self, upload: Upload) -> tuple[Upload, UploadTarget]:
        """Prepare a staging place and say where the client sends the bytes."""

    async def finish(self, upload: Upload, sha256: str, parts: list[PartDone]) -> str | None:
        """Verify the staged bytes hash to `sha256`, then make them the blob `sha256`.
        Returns the key they lie under when it is not the blob's content key (its location).

        Raises Refused when they do not: the service then aborts the upload."""

    async def abort(self, upload: Upload) -> None:
        """Drop whatever the upload staged."""

    async def locate(self, blob: BlobInfo) -> str:
        """A URL a client GETs (with Range if it likes) for the bytes."""

    async def delete(self, blob: BlobInfo) -> None:
        """The blob's bytes and its preview."""

    async def discard(self, location: str) -> None:
        """Bytes finished at `location` that another upload of the same digest stored first."""

    async def write_previews(self, documents: dict[str, bytes]) -> None:
        """Store blobs' preview documents (small JSON, by sha256), each beside its blob."""

    async def read_preview(self, sha256: str) -> bytes | None: ...

    def local_file(self, blob: BlobInfo) -> AbstractAsyncContextManager[Path]:
        """The blob as a local file for as long as the context lasts (previews)."""
        ...
