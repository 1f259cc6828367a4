"""The executor's input cache is bounded: past its size the least recently used inputs go,
never one an attempt that runs now uses. Inputs come from the real artifact service."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.events import FileEntry, InputRef
from tests.integration.executor_blobs import TOKEN, BlobStack, blob_stack_fixture  # noqa: F401
from tests.integration.executor_harness import Harness, start_harness

SIZE = 100  # each input's bytes; the cache holds two of them


@pytest.fixture
async def bounded(nats_url: str, tmp_path: Path, blob_stack: BlobStack) -> AsyncIterator[Harness]:
    harness = await start_harness(
        "local",
        nats_url,
        tmp_path / "home",
        gateway_url=blob_stack.url,
        api_token=TOKEN,
        input_cache_max_bytes=2 * SIZE + SIZE // 2,
        local_sandbox=False,
    )
    yield harness
    await harness.service.stop()
    await harness.client.close()


async def stored(blob_stack: BlobStack, tmp_path: Path, fill: bytes) -> InputRef:
    path = tmp_path / f"{fill.decode()}.bin"
    path.write_bytes(fill * SIZE)
    blob = await blob_stack.artifacts.put_file(path)
    entry = FileEntry(path="data.bin", size=blob.size, sha256=blob.sha256)
    return InputRef(type="dataset", name=fill.decode(), version=1, files=[entry])


async def test_the_least_recently_used_inputs_go_but_not_one_a_running_attempt_uses(
    bounded: Harness, blob_stack: BlobStack, tmp_path: Path
) -> None:
    a, b, c = [await stored(blob_stack, tmp_path, fill) for fill in (b"a", b"b", b"c")]
    cache = bounded.home / "executor" / "cache"

    using_a = await bounded.dispatch(["sleep", "300"], inputs={"data": a})
    await bounded.started(using_a)
    for data in (b, c):  # c does not fit beside a and b: the least recently used goes
        run_id = await bounded.dispatch(["true"], inputs={"data": data})
        assert (await bounded.ended(run_id)).exit_code == 0

    cached = {path.name for path in cache.iterdir() if not path.suffix}
    assert cached == {a.files[0].sha256, c.files[0].sha256}  # a is in use, b went
    await bounded.stop(using_a)
    await bounded.ended(using_a)
