"""The artifact store end to end, the same suite on the file backend and on S3 (moto):
client → gateway (real HTTP) → artifact service (NATS) → data plane or S3."""

import asyncio
import hashlib
import json
from pathlib import Path

import httpx
import nats

from boxops.artifacts import AsyncArtifacts, LocalFile
from tests.conftest import eventually
from tests.integration.artifact.support import ArtifactStack, write_random


async def test_a_file_goes_up_and_comes_back_byte_for_byte(
    stack: ArtifactStack, tmp_path: Path
) -> None:
    source = write_random(tmp_path / "model.bin", 3 * 1024**2 + 17)
    blob = await stack.client.put_file(source)
    assert blob.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert blob.size == source.stat().st_size and blob.stored and blob.name == "model.bin"
    copy = await stack.client.get(blob.sha256, tmp_path / "copy.bin")
    assert copy.read_bytes() == source.read_bytes()
    assert (await stack.client.stat(blob.sha256)).size == blob.size


async def test_the_same_bytes_are_stored_once_and_announced_once(
    stack: ArtifactStack, tmp_path: Path
) -> None:
    seen: list[dict[str, object]] = []
    connection = await nats.connect(stack.settings.nats_url)

    async def collect(message: nats.aio.msg.Msg) -> None:
        seen.append(json.loads(message.data))

    await connection.subscribe("artifact.stored", cb=collect)
    source = write_random(tmp_path / "a.bin", 1000)
    first = await stack.client.put_file(source)
    again = await stack.client.put_file(source, name="b.bin")
    assert first.stored and not again.stored and again.sha256 == first.sha256
    # The service publishes what a request caused before it answers, on one connection:
    # once the next blob's event is here, one for the second put would have come first.
    marker = await stack.client.put_file(write_random(tmp_path / "c.bin", 1000, seed=1))

    async def arrived() -> bool:
        return marker.sha256 in [event["sha256"] for event in seen]

    await eventually(arrived)
    await connection.close()
    assert [event["sha256"] for event in seen] == [first.sha256, marker.sha256]


async def test_a_big_file_is_hashed_while_it_is_sent_and_in_parts_on_s3(
    stack: ArtifactStack, tmp_path: Path
) -> None:
    source = write_random(tmp_path / "big.bin", 12 * 1024**2 + 3)
    async with AsyncArtifacts(stack.gateway_url, prehash_max=1024) as client:
        blob = await client.put_file(source)
        assert blob.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
        await client.get(blob.sha256, tmp_path / "copy.bin")
    assert (tmp_path / "copy.bin").read_bytes() == source.read_bytes()


async def test_ranges_come_back_through_the_redirect(stack: ArtifactStack, tmp_path: Path) -> None:
    source = write_random(tmp_path / "data.bin", 100_000)
    blob = await stack.client.put_file(source)
    async with httpx.AsyncClient(base_url=stack.gateway_url, follow_redirects=True) as http:
        response = await http.get(f"/v1/artifacts/{blob.sha256}", headers={"range": "bytes=10-99"})
        streamed = await http.get(
            f"/v1/artifacts/{blob.sha256}?stream=true", headers={"range": "bytes=5-9"}
        )
    assert response.status_code == 206 and response.content == source.read_bytes()[10:100]
    assert streamed.status_code == 206 and streamed.content == source.read_bytes()[5:10]


async def test_one_request_puts_a_blob_through_the_gateway(stack: ArtifactStack) -> None:
    body = b"streamed through the gateway\n" * 1000
    digest = hashlib.sha256(body).hexdigest()
    async with httpx.AsyncClient(base_url=stack.gateway_url) as http:
        created = await http.put(f"/v1/artifacts/{digest}?name=notes.txt", content=body)
        again = await http.put(f"/v1/artifacts/{digest}", content=body)
        wrong = await http.put(f"/v1/artifacts/{'0' * 64}", content=body)
        fetched = await http.get(f"/v1/artifacts/{digest}?stream=true")
    assert created.status_code == 201, created.text
    assert created.json()["stored"] and not again.json()["stored"]
    assert wrong.status_code == 400 and "sha256 mismatch" in wrong.json()["detail"]
    assert fetched.content == body


async def test_many_small_files_go_up_in_batches(stack: ArtifactStack, tmp_path: Path) -> None:
    files = []
    for n in range(300):
        path = tmp_path / "data" / f"part-{n:04}.txt"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"row {n}\n")
        files.append(LocalFile(path, f"data/{path.name}"))
    blobs = await stack.client.put_files(files)
    assert [b.name for b in blobs] == [f.name for f in files]
    digests = [b.sha256 for b in blobs]
    presence = await stack.client.exists([*digests, "f" * 64])
    assert presence.missing == ["f" * 64] and set(presence.present) == set(digests)
    again = await stack.client.put_files(files)
    assert not any(b.stored for b in again)


async def test_names_point_at_blobs_and_keep_them(stack: ArtifactStack, tmp_path: Path) -> None:
    logs = tmp_path / "logs.jsonl"
    logs.write_text('{"line": "hello"}\n')
    blob = await stack.client.put_file(logs)
    named = await stack.client.bind("runs/r1/logs.jsonl", blob.sha256)
    assert named.sha256 == blob.sha256 and named.size == blob.size
    assert (await stack.client.name("runs/r1/logs.jsonl")).sha256 == blob.sha256
    async with httpx.AsyncClient(base_url=stack.gateway_url) as http:
        listed = await http.get("/v1/artifacts/names", params={"prefix": "runs/r1/"})
        kept = await http.delete(f"/v1/artifacts/{blob.sha256}")
    assert [n["key"] for n in listed.json()] == ["runs/r1/logs.jsonl"]
    assert kept.status_code == 409 and "runs/r1/logs.jsonl" in kept.json()["detail"]


async def test_a_deleted_blob_is_gone(stack: ArtifactStack, tmp_path: Path) -> None:
    blob = await stack.client.put_file(write_random(tmp_path / "x.bin", 2048))
    await stack.client.delete(blob.sha256)
    async with httpx.AsyncClient(base_url=stack.gateway_url) as http:
        assert (await http.get(f"/v1/artifacts/{blob.sha256}/metadata")).status_code == 404
        assert (await http.get(f"/v1/artifacts/{blob.sha256}")).status_code == 404
    assert (await stack.client.exists([blob.sha256])).missing == [blob.sha256]


async def test_listing_pages_by_digest(stack: ArtifactStack, tmp_path: Path) -> None:
    for n in range(5):
        await stack.client.put_file(write_random(tmp_path / f"{n}.bin", 100, seed=n))
    first = await stack.client.listing(limit=3)
    rest = await stack.client.listing(limit=3, after=first[-1].sha256)
    digests = [b.sha256 for b in first + rest]
    assert len(digests) == 5 and digests == sorted(digests)


async def test_the_same_bytes_committed_twice_at_once_make_one_blob(stack: ArtifactStack) -> None:
    body = b"raced\n" * 100
    digest = hashlib.sha256(body).hexdigest()
    api, data = stack.client.api, stack.client.data
    reserved = await api.post("/v1/artifacts/uploads", json={"blobs": [{"size": len(body)}] * 2})
    targets = [r["upload"] for r in reserved.json()]
    for target in targets:
        assert (await data.put(target["url"], content=body, headers=target["headers"])).is_success

    async def commit(target: dict[str, str]) -> dict[str, object]:
        item = {"upload_id": target["upload_id"], "sha256": digest}
        return (await api.post("/v1/artifacts/commits", json={"commits": [item]})).json()[0]

    results = await asyncio.gather(*(commit(t) for t in targets))
    assert all(r["ok"] for r in results), results
    assert sorted(r["blob"]["stored"] for r in results) == [False, True]  # type: ignore[index]
