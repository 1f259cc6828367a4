"""S3 answers CompleteMultipartUpload only once the object is assembled, which takes longer
the bigger the blob: a commit waits for it (its own timeout) rather than retrying the call
after the usual read timeout. Through a real proxy that holds that answer back."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

from tests.integration.artifact.support import artifact_settings, running, write_random

HOLD_S = 1.5


@contextlib.asynccontextmanager
async def slow_completing(target: str) -> AsyncIterator[str]:
    """Forwards to S3; the answer to a POST …?uploadId= (a completion) comes HOLD_S late."""
    parsed = urlsplit(target)
    held: list[int] = []

    async def serve(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(parsed.hostname, parsed.port)
        completing = asyncio.Event()

        async def upstream() -> None:
            while data := await client_r.read(65536):
                if data.startswith(b"POST ") and b"uploadId=" in data.split(b"\r\n", 1)[0]:
                    completing.set()  # HTTP/1.1 without pipelining: the next answer is its
                server_w.write(data)
                await server_w.drain()
            server_w.close()

        async def downstream() -> None:
            while data := await server_r.read(65536):
                if completing.is_set():
                    completing.clear()
                    held.append(len(data))
                    await asyncio.sleep(HOLD_S)
                client_w.write(data)
                await client_w.drain()
            client_w.close()

        with contextlib.suppress(ConnectionError):
            await asyncio.gather(upstream(), downstream())

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    server.close()
    assert held, "the proxy never held a completion back"


async def test_a_slow_completion_is_waited_for_not_retried(
    tmp_path: Path, nats_url: str, moto_endpoint: str
) -> None:
    async with slow_completing(moto_endpoint) as proxy:
        settings = artifact_settings(
            "s3",
            tmp_path,
            nats_url,
            moto_endpoint,
            s3_endpoint_url=proxy,  # the service's calls; clients send parts to S3 directly
            s3_public_endpoint_url=moto_endpoint,
            s3_read_timeout_s=0.5,
            s3_commit_timeout_s=HOLD_S * 4,
            multipart_threshold_bytes=5 * 1024**2,
            part_bytes=5 * 1024**2,
        )
        async with running(settings, "s3") as stack:
            source = write_random(tmp_path / "big.bin", 11 * 1024**2 + 1)
            blob = await stack.client.put_file(source, name="big.bin")
            copy = await stack.client.get(blob.sha256, tmp_path / "copy.bin")
            assert copy.read_bytes() == source.read_bytes()
