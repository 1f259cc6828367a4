"""A prefix filter takes `%` and `_` literally: `?prefix=%` matches no name, not every name."""

from typing import Any

from tests.integration.registry.conftest import Registry
from tests.integration.registry.test_registry_models import push
from tests.integration.registry.test_registry_specs import register

NAMES = ("a_b", "axb")


async def names(registry: Registry, kind: str, prefix: str) -> list[Any]:
    response = await registry.http.get(f"/v1/{kind}", params={"prefix": prefix})
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


async def test_datasets_models_and_components_filter_by_a_literal_prefix(
    registry: Registry,
) -> None:
    for name in NAMES:
        assert (await registry.http.put(f"/v1/datasets/{name}", json={})).status_code == 200
        await push(registry, name, "a")
        status, _ = await register(
            registry, "component", f"kind: component\nname: {name}\ncommand: [echo]\n"
        )
        assert status == 201

    for kind in ("datasets", "models", "components"):
        assert await names(registry, kind, "a") == ["a_b", "axb"], kind
        assert await names(registry, kind, "a_") == ["a_b"], kind
        assert await names(registry, kind, "%") == [], kind
        assert await names(registry, kind, "_") == [], kind
