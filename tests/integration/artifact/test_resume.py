"""A download cut off mid-way resumes with Range from what was written, and the result is
checked against its sha256: through a real TCP proxy that hangs up once."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.integration.artifact.support import artifact_settings, running, write_random

CUT_AFTER = 1024**2


@contextlib.asynccontextmanager
async def cutting_proxy(target_port: int) -> AsyncIterator[int]:
    """Forwards to the data plane; the first response longer than CUT_AFTER is cut there."""
    cuts: list[int] = []

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, cut: bool) -> None:
        sent = 0
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                if cut and not cuts and sent + len(data) > CUT_AFTER:
                    writer.write(data[: CUT_AFTER - sent])
                    cuts.append(sent)
                    break
                writer.write(data)
                sent += len(data)
                await writer.drain()
        writer.close()

    async def serve(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", target_port)
        await asyncio.gather(pipe(client_r, server_w, False), pipe(server_r, client_w, True))

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    assert cuts, "the proxy never cut a download"


async def test_a_broken_download_resumes_where_it_stopped(tmp_path: Path, nats_url: str) -> None:
    port = free_port()
    async with cutting_proxy(port) as proxy:
        settings = artifact_settings(
            "file",
            tmp_path,
            nats_url,
            artifact_port=port,
            artifact_public_url=f"http://127.0.0.1:{proxy}",
        )
        async with running(settings, "file") as stack:
            source = write_random(tmp_path / "big.bin", 5 * CUT_AFTER + 123)
            blob = await stack.client.put_file(source, name="big.bin")
            if blob.size <= CUT_AFTER:
                pytest.fail("the blob must be larger than the cut")
            copy = await stack.client.get(blob.sha256, tmp_path / "copy.bin")
            assert copy.read_bytes() == source.read_bytes()
