"""A dead letter of the registry's own refusal, replayed through the gateway: refused
again while its cause stands (kept, not lost), recorded once the cause is fixed."""

from typing import Any

from tests.conftest import eventually
from tests.integration.registry.conftest import Registry


async def dead_letters(registry: Registry, count: int) -> list[dict[str, Any]]:
    async def exactly() -> list[dict[str, Any]] | None:
        found: list[dict[str, Any]] = (await registry.http.get("/v1/dlq")).json()
        return found if len(found) == count else None

    return await eventually(exactly)  # type: ignore[return-value]


async def versions(registry: Registry, name: str) -> list[dict[str, Any]]:
    response = await registry.http.get(f"/v1/datasets/{name}/versions")
    return response.json()["items"] if response.status_code == 200 else []  # type: ignore[no-any-return]


async def test_an_announcement_with_an_unknown_parent_is_recorded_when_replayed_after_the_fix(
    registry: Registry,
) -> None:
    announcement = {"dataset": "sales", "uri": "s3://lake/sales/1", "parents": ["iris@1"]}
    published = await registry.http.post("/v1/events/dataset.version.created", json=announcement)
    assert published.status_code == 202, published.text
    [entry] = await dead_letters(registry, 1)
    assert entry["reason"] == "no dataset 'iris'"
    assert entry["consumer"] == "boxops/registry"

    # Replayed before the fix: refused again for the same reason, and kept in the DLQ.
    replayed = await registry.http.post(f"/v1/dlq/{entry['id']}/replay")
    assert replayed.status_code == 200, replayed.text
    [again] = await dead_letters(registry, 1)  # the first entry left, the new one came
    assert again["id"] != entry["id"]
    assert (again["reason"], again["data"]) == (entry["reason"], entry["data"])

    linked = await registry.http.post("/v1/datasets/iris/versions", json={"uri": "s3://lake/i"})
    assert linked.status_code == 201, linked.text
    replayed = await registry.http.post(f"/v1/dlq/{again['id']}/replay")
    assert replayed.status_code == 200, replayed.text

    async def recorded() -> list[dict[str, Any]]:
        return await versions(registry, "sales")

    [version] = await eventually(recorded)  # type: ignore[misc]
    assert version["uri"] == "s3://lake/sales/1"
    assert (await registry.http.get("/v1/dlq")).json() == []
