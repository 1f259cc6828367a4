"""Models: numbered versions of files, aliases announced and resolved; paginated listings."""

from typing import Any

from shared.queries import MODEL_VERSION_GET, RefQuery, Reply
from tests.integration.registry.conftest import Registry


async def push(registry: Registry, name: str, content: str, **extra: Any) -> tuple[int, Any]:
    [sha256] = await registry.stored(content.encode())
    files = [{"path": "model.onnx", "size": len(content), "sha256": sha256}]
    body = {"files": files, "format": "onnx", "framework": "pytorch", **extra}
    response = await registry.http.post(f"/v1/models/{name}/versions", json=body)
    return response.status_code, response.json()


async def test_aliases_point_at_versions_and_every_reference_accepts_them(
    registry: Registry,
) -> None:
    assert (await push(registry, "clf", "a", metrics={"acc": 0.9}))[0] == 201
    status, again = await push(registry, "clf", "a")
    assert (status, again["version"], again["created"]) == (200, 1, False)
    assert (await push(registry, "clf", "b", metrics={"acc": 0.95}))[1]["version"] == 2

    for alias, version in (("production", 1), ("staging", 2), ("production", 2)):
        response = await registry.http.put(
            f"/v1/models/clf/aliases/{alias}", json={"version": version}
        )
        assert response.status_code == 200, response.text
    assert response.json()["aliases"] == {"production": 2, "staging": 2}
    announced = await registry.events("model.alias.set")
    assert [(e["alias"], e["version"], e.get("previous_version")) for e in announced] == [
        ("production", 1, None),
        ("staging", 2, None),
        ("production", 2, 1),
    ]

    message = await registry.bus.broker.request(
        RefQuery(ref="clf@production"), MODEL_VERSION_GET, timeout=5
    )
    reply = Reply.model_validate(await message.decode())
    assert reply.result["version"] == 2 and reply.result["aliases"] == ["production", "staging"]
    assert {"model", "version", "files", "run_id", "metrics"} <= set(reply.result)
    by_alias = (await registry.http.get("/v1/models/clf/versions/staging")).json()
    assert by_alias["metrics"] == {"acc": 0.95}
    versions = (await registry.http.get("/v1/models/clf/versions")).json()
    assert [v["version"] for v in versions["items"]] == [2, 1]
    created = await registry.events("model.version.created")
    assert [(e["version"], e["format"]) for e in created] == [(1, "onnx"), (2, "onnx")]


async def test_an_alias_to_nothing_or_with_a_bad_name_is_refused(registry: Registry) -> None:
    await push(registry, "clf", "a")
    missing = await registry.http.put("/v1/models/clf/aliases/prod", json={"version": 7})
    assert (missing.status_code, missing.json()["detail"]) == (404, "model 'clf' has no version 7")
    latest = await registry.http.put("/v1/models/clf/aliases/latest", json={"version": 1})
    assert latest.status_code == 422
    unknown = await registry.http.get("/v1/models/clf/versions/canary")
    assert (unknown.status_code, unknown.json()["detail"]) == (
        404,
        "model 'clf' has no alias 'canary'",
    )
    empty = await registry.http.post("/v1/models/clf/versions", json={"files": []})
    assert empty.status_code == 422


async def test_listings_are_paginated(registry: Registry) -> None:
    for i in range(5):
        await push(registry, f"m{i}", "a")
    page = (await registry.http.get("/v1/models", params={"limit": 2, "offset": 2})).json()
    assert [m["name"] for m in page["items"]] == ["m2", "m3"]
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 2)
    prefixed = (await registry.http.get("/v1/models", params={"prefix": "m4"})).json()
    assert [m["name"] for m in prefixed["items"]] == ["m4"]


async def test_a_version_of_files_the_store_does_not_hold_is_refused_naming_them(
    registry: Registry,
) -> None:
    absent = "e" * 64
    files = [{"path": "weights.bin", "size": 42, "sha256": absent}]
    response = await registry.http.post("/v1/models/fake/versions", json={"files": files})
    assert response.status_code == 422
    assert response.json()["detail"] == (
        f"1 file(s) not in the artifact store (push them first): weights.bin (sha256 {absent})"
    )
    assert (await registry.http.get("/v1/models/fake")).status_code == 404  # nothing kept
