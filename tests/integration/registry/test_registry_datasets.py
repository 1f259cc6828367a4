"""Dataset versions through the gateway and through events: external (pinned, verified),
managed manifests (chunked, diffed), idempotency, and dead letters for what cannot be kept."""

import hashlib
import json
import os
from typing import Any

from shared.events import FileEntry
from shared.queries import DATASET_VERSION_GET, RefQuery, Reply
from tests.conftest import eventually
from tests.integration.registry.conftest import Registry

DIGEST = "sha256:" + "ab" * 32


async def link(registry: Registry, name: str, **body: Any) -> tuple[int, dict[str, Any]]:
    response = await registry.http.post(f"/v1/datasets/{name}/versions", json=body)
    return response.status_code, response.json()


async def versions(registry: Registry, name: str) -> list[dict[str, Any]]:
    response = await registry.http.get(f"/v1/datasets/{name}/versions", params={"limit": 1000})
    return response.json()["items"] if response.status_code == 200 else []  # type: ignore[no-any-return]


async def recorded(registry: Registry, name: str, count: int) -> list[dict[str, Any]]:
    async def enough() -> list[dict[str, Any]] | None:
        found = await versions(registry, name)
        return found if len(found) >= count else None

    return await eventually(enough)  # type: ignore[return-value]


def files(count: int, sha256: str, prefix: str = "part") -> list[dict[str, Any]]:
    return [
        FileEntry(path=f"{prefix}/{i:05d}.csv", size=10 + i, sha256=sha256).model_dump()
        for i in range(count)
    ]


async def test_an_external_version_is_recorded_once_per_identity(registry: Registry) -> None:
    status, first = await link(registry, "iris", uri="s3://bucket/iris/2026-11-26/")
    assert (status, first["version"], first["managed"], first["created"]) == (201, 1, False, True)
    assert first["pin"]["kind"] == "none"  # s3 pinning is off unless configured
    status, again = await link(registry, "iris", uri="s3://bucket/iris/2026-11-26/")
    assert (status, again["version"], again["created"]) == (200, 1, False)
    status, second = await link(registry, "iris", uri="s3://bucket/iris/2026-11-27/", digest=DIGEST)
    assert (status, second["version"], second["previous_version"]) == (201, 2, 1)
    status, same = await link(registry, "iris", uri="s3://mirror/iris/", digest=DIGEST)
    assert (status, same["version"]) == (200, 2)  # the same digest is the same data

    dataset = (await registry.http.get("/v1/datasets/iris")).json()
    assert (dataset["latest_version"], dataset["versions"], dataset["type"]) == (2, 2, "other")
    status, refused = await link(registry, "iris", uri="iris.csv")
    assert status == 422 and "expected scheme://" in refused["detail"]
    missing = await registry.http.get("/v1/datasets/iris/versions/9")
    assert (missing.status_code, missing.json()["detail"]) == (
        404,
        "dataset 'iris' has no version 9",
    )


async def test_a_local_csv_is_pinned_described_and_its_drift_reported(registry: Registry) -> None:
    data = registry.lake / "iris.csv"
    data.write_text("sepal,petal,kind\n5.1,1.4,setosa\n4.9,1.3,setosa\n")
    status, version = await link(registry, "iris", uri=data.as_uri(), metadata={"owner": "ml"})
    assert (status, version["state"]) == (201, "pinning")
    version = await registry.settled("iris", 1)
    assert version["state"] == "pinned"
    assert version["digest"] == "sha256:" + hashlib.sha256(data.read_bytes()).hexdigest()
    meta = version["metadata"]
    assert meta["rows"] == 2 and meta["files"] == 1 and meta["owner"] == "ml"
    assert [c["type"] for c in meta["columns"]] == ["float", "float", "string"]
    dataset = (await registry.http.get("/v1/datasets/iris")).json()
    assert dataset["type"] == "table"

    verify = "/v1/datasets/iris/versions/1/verify"
    assert (await registry.http.post(verify)).json()["status"] == "ok"
    os.utime(data, ns=(1, 1))  # touched, not changed
    assert (await registry.http.post(verify)).json()["status"] == "ok"
    data.write_text("sepal,petal,kind\n5.1,1.4,setosa\n")
    drifted = (await registry.http.post(verify)).json()
    assert drifted["status"] == "drift"
    assert any(line.startswith("sha256:") for line in drifted["differences"])
    data.unlink()
    assert (await registry.http.post(verify)).json()["status"] == "unreachable"


async def test_a_local_directory_version_knows_which_files_changed(registry: Registry) -> None:
    folder = registry.lake / "images"
    folder.mkdir()
    for name in ("a.png", "b.png"):
        (folder / name).write_bytes(b"png")
    await link(registry, "faces", uri=folder.as_uri())
    await registry.settled("faces", 1)
    (folder / "c.png").write_bytes(b"png")
    (folder / "a.png").unlink()
    status, _ = await link(registry, "faces", uri=folder.as_uri())
    assert status == 201
    second = await registry.settled("faces", 2)
    changes = second["changes"]
    assert (changes["added"], changes["removed"], changes["modified"]) == (["c.png"], ["a.png"], [])
    dataset = (await registry.http.get("/v1/datasets/faces")).json()
    assert dataset["type"] == "image"
    announced = await registry.events("dataset.version.created")
    assert [e["version"] for e in announced] == [1, 2]  # each once its data was hashed

    status, _ = await link(registry, "faces", uri=folder.as_uri())  # nothing changed
    same = await registry.settled("faces", 3)
    assert (status, same["state"], same["state_reason"]) == (
        201,
        "failed",
        "the same data as version 2",
    )
    latest = (await registry.http.get("/v1/datasets/faces/versions/latest")).json()
    assert latest["version"] == 2


async def test_a_large_managed_manifest_goes_over_in_chunks_and_is_diffed(
    registry: Registry,
) -> None:
    a, b, c = await registry.stored(b"a", b"b", b"c")
    manifest = files(4500, a)
    status, first = await link(registry, "logs", files=manifest)
    assert (status, first["file_count"], first["metadata"]["files"]) == (201, 4500, 4500)
    status, again = await link(registry, "logs", files=list(reversed(manifest)))
    assert (status, again["version"]) == (200, 1)

    changed = manifest[:4000] + files(2, b, prefix="new")
    changed[0] = {**changed[0], "sha256": c}
    status, second = await link(registry, "logs", files=changed)
    assert status == 201
    assert second["changes"]["files_added"] == 2
    assert second["changes"]["files_removed"] == 500
    assert second["changes"]["files_modified"] == 1
    page = (await registry.http.get("/v1/datasets/logs/versions/2/files?limit=3&offset=1")).json()
    assert page["total"] == 4002 and [f["path"] for f in page["items"]] == [
        "new/00001.csv",
        "part/00000.csv",
        "part/00001.csv",
    ]
    announced = await registry.events("dataset.version.created")
    assert [(e["version"], e.get("previous_version")) for e in announced] == [(1, None), (2, 1)]
    checked = (await registry.http.post("/v1/datasets/logs/versions/2/verify")).json()
    assert checked["status"] == "ok"  # every file is still in the artifact store
    assert announced[1]["changes"]["files_removed"] == 500
    assert len(announced[1]["changes"]["removed"]) == 100


async def test_announcements_from_other_systems_are_recorded_idempotently(
    registry: Registry,
) -> None:
    event = {"dataset": "iris", "uri": "s3://b/iris/2026-11-26/", "digest": DIGEST}
    await registry.publish("dataset.version.created", event)
    [version] = await recorded(registry, "iris", 1)
    assert (version["source"], version["uri"], version["digest"]) == ("event", event["uri"], DIGEST)

    await registry.publish("dataset.version.created", event)  # same dataset + digest
    ce = {"ce-specversion": "1.0", "ce-id": "ev-1", "ce-source": "lake", "ce-type": "x"}
    await registry.publish(
        "dataset.version.created", {**event, "digest": None, "uri": "s3://b/1"}, ce
    )
    await registry.publish(
        "dataset.version.created", {**event, "digest": None, "uri": "s3://b/2"}, ce
    )
    await registry.publish("dataset.version.created", {"dataset": "iris", "uri": "s3://b/3"})
    found = await recorded(registry, "iris", 3)
    assert sorted(v["uri"] for v in found) == ["s3://b/1", "s3://b/3", event["uri"]]
    # The registry's own announcements came back on the same subject and were not re-recorded.
    own = [e for e in await registry.events("dataset.version.created") if e.get("version")]
    assert [e["version"] for e in own] == [1, 2, 3]
    assert len(await versions(registry, "iris")) == 3


async def test_an_announcement_that_cannot_be_recorded_is_dead_lettered_with_the_reason(
    registry: Registry,
) -> None:
    await registry.publish("dataset.version.created", {"uri": "s3://b/x"})
    await registry.publish("dataset.version.created", {"dataset": "iris", "uri": "not a uri"})
    await registry.publish("dataset.version.created", {"dataset": "iris", "uri": "s3://"})
    await registry.publish("dataset.version.created", {"dataset": "Bad Name!", "uri": "s3://b/k"})
    await registry.publish("dataset.version.created", {"dataset": "iris"})
    await registry.publish("dataset.version.created", b"{not json")
    await registry.publish("dataset.version.created", {"dataset": "iris", "uri": "s3://b/ok"})

    letters = await registry.dead_letters(6)
    reasons = [m.headers["boxops-dlq-reason"] for m in letters]
    assert reasons[0] == "dataset.version.created: dataset: Field required"
    assert reasons[1] == (
        "dataset.version.created: uri: 'not a uri' is not a URI: empty or holds whitespace"
    )
    assert reasons[2] == (
        "dataset.version.created: uri: 's3://' is not a URI: s3:// needs a bucket or host"
    )
    assert reasons[3].startswith(
        "dataset.version.created: dataset: dataset name 'Bad Name!' may only contain letters"
    )
    assert reasons[4] == (
        "dataset.version.created: (body): an announced version needs the uri of its data"
    )
    assert reasons[5].startswith("body is not JSON")
    assert {m.subject for m in letters} == {"dlq.dataset.version.created"}
    assert {m.headers["boxops-dlq-consumer"] for m in letters} == {"boxops/registry"}
    [kept] = await recorded(registry, "iris", 1)  # the consumer went on
    assert kept["uri"] == "s3://b/ok"
    assert json.loads(letters[1].data)["uri"] == "not a uri"


async def test_a_version_too_big_for_one_reply_says_so_and_its_files_page(
    registry: Registry,
) -> None:
    [sha256] = await registry.stored(b"huge")
    status, _ = await link(registry, "huge", files=files(12_000, sha256))
    assert status == 201
    message = await registry.bus.broker.request(
        RefQuery(ref="huge@1"), DATASET_VERSION_GET, timeout=5
    )
    reply = Reply.model_validate(await message.decode())
    assert (reply.ok, reply.status) == (False, 413)
    assert "page through the version's files" in reply.error
    page = (await registry.http.get("/v1/datasets/huge/versions/1/files?offset=11999")).json()
    assert page["total"] == 12_000 and [f["path"] for f in page["items"]] == ["part/11999.csv"]


async def test_a_dataset_is_created_with_its_fields_and_changed_later(registry: Registry) -> None:
    body = {"type": "image", "description": "faces", "tags": ["pii", "eu", "pii"]}
    created = (await registry.http.put("/v1/datasets/faces", json=body)).json()
    assert (created["type"], created["tags"], created["latest_version"]) == (
        "image",
        ["eu", "pii"],
        None,
    )
    changed = (await registry.http.put("/v1/datasets/faces", json={"description": "crops"})).json()
    assert (changed["type"], changed["description"]) == ("image", "crops")
    [announced] = await registry.events("dataset.created")
    assert announced == {
        "dataset": "faces",
        "type": "image",
        "description": "faces",
        "tags": ["eu", "pii"],
    }
    tagged = (await registry.http.get("/v1/datasets", params={"tag": "pii"})).json()
    assert [d["name"] for d in tagged["items"]] == ["faces"]
    bad = await registry.http.put("/v1/datasets/faces", json={"type": "spreadsheet"})
    assert bad.status_code == 422


async def test_a_version_of_files_the_store_does_not_hold_is_refused_naming_them(
    registry: Registry,
) -> None:
    [held] = await registry.stored(b"sepal,petal\n")
    absent = "f" * 64
    manifest = [
        {"path": "train.csv", "size": 12, "sha256": held},
        {"path": "test.csv", "size": 9, "sha256": absent},
    ]
    status, refused = await link(registry, "fake", files=manifest)
    assert status == 422
    assert refused["detail"] == (
        f"1 file(s) not in the artifact store (push them first): test.csv (sha256 {absent})"
    )
    assert (await registry.http.get("/v1/datasets/fake")).status_code == 404  # nothing kept
    status, kept = await link(registry, "fake", files=manifest[:1])
    assert (status, kept["version"]) == (201, 1)
