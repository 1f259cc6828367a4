"""Bundle frames are split correctly however the network cuts the body."""

import pytest

from services.artifact.bundles import BundleError, FrameReader
from shared.artifacts import frame_header


async def chunks_of(data: bytes, size: int):  # type: ignore[no-untyped-def]
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def read_all(data: bytes, size: int) -> list[tuple[str, bytes]]:
    reader, frames = FrameReader(chunks_of(data, size)), []
    while header := await reader.header():
        upload_id, length = header
        frames.append((upload_id, b"".join([c async for c in reader.body(length)])))
    return frames


@pytest.mark.parametrize("cut", [1, 2, 7, 33, 4096])
async def test_frames_come_out_whole_whatever_the_chunking(cut: int) -> None:
    files = [("a" * 32, b"hello"), ("b" * 32, b""), ("c" * 32, b"x\n" * 50)]
    body = b"".join(frame_header(i, len(d)) + d for i, d in files)
    assert await read_all(body, cut) == files


async def test_a_body_cut_short_leaves_the_last_frame_short() -> None:
    body = frame_header("a" * 32, 10) + b"12345"
    assert await read_all(body, 3) == [("a" * 32, b"12345")]


@pytest.mark.parametrize("body", [b"no-size-here\n", b"x" * 200, b"abc 12"])
async def test_malformed_headers_are_refused(body: bytes) -> None:
    with pytest.raises(BundleError):
        await read_all(body, 5)
