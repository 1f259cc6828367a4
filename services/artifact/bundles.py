"""Bundles: many small uploads in one request body, so a dataset of thousands of small files
costs a few requests, not thousands.

A bundle is a sequence of frames, each a header line `<upload id> <size>\\n` followed by
exactly `size` bytes. The reader splits a streamed body into frames without holding more
than one network chunk.
"""

from collections.abc import AsyncIterator

HEADER_LIMIT = 128


class BundleError(ValueError):
    """The body is not a well-formed bundle; the text says where."""


def parse_header(line: bytes) -> tuple[str, int]:
    upload_id, _, size = line.decode("ascii", errors="replace").strip().partition(" ")
    if not upload_id or not size.isdigit():
        raise BundleError(f"bad frame header {line[:HEADER_LIMIT]!r}: want '<upload id> <size>'")
    return upload_id, int(size)


class FrameReader:
    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks.__aiter__()
        self._buffer = b""
        self._at = 0  # where the unread bytes of the buffer start: frames are not copied out
        self._ended = False

    async def _more(self) -> bool:
        if self._ended:
            return False
        chunk = await anext(self._chunks, None)
        if chunk is None:
            self._ended = True
            return False
        self._buffer = self._buffer[self._at :] + chunk
        self._at = 0
        return True

    async def header(self) -> tuple[str, int] | None:
        """The next frame's (upload id, size); None at the end of the body."""
        while (end := self._buffer.find(b"\n", self._at)) < 0:
            if len(self._buffer) - self._at > HEADER_LIMIT:
                raise BundleError("frame header too long")
            if not await self._more():
                if len(self._buffer) > self._at:
                    raise BundleError("body ends inside a frame header")
                return None
        line, self._at = self._buffer[self._at : end], end + 1
        return parse_header(line)

    async def body(self, size: int) -> AsyncIterator[bytes]:
        """The frame's bytes (fewer if the body ends early: the receiver sees it truncated)."""
        left = size
        while left:
            if self._at == len(self._buffer) and not await self._more():
                return
            piece = self._buffer[self._at : self._at + left]
            self._at += len(piece)
            left -= len(piece)
            yield piece
