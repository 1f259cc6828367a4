"""Sweeps through the gateway: versions pinned to their target, refusals naming the field."""

from shared.queries import SWEEP_GET
from tests.integration.registry.conftest import Registry
from tests.integration.registry.test_registry_specs import TRAIN, ask, register

SEARCH = """kind: sweep
name: search
target: {component: train, inputs: {data: "iris@latest"}}
objective: {metric: accuracy, direction: maximize}
space:
  lr: {type: float, low: 0.001, high: 1.0, log: true}
trials: 8
parallel: 2
"""


async def test_a_sweep_is_versioned_and_pinned_to_its_target(registry: Registry) -> None:
    await register(registry, "component", TRAIN)
    status, first = await register(registry, "sweep", SEARCH)
    assert (status, first["version"], first["target"]) == (201, 1, "train@1"), first
    assert first["target_kind"] == "component"
    status, again = await register(registry, "sweep", "# same\n" + SEARCH)
    assert (status, again["version"], again["created"]) == (200, 1, False)

    await register(registry, "component", TRAIN.replace("0.1", "0.2"))  # train@2
    status, repinned = await register(registry, "sweep", SEARCH)
    assert (status, repinned["version"], repinned["target"]) == (201, 2, "train@2")

    listed = (await registry.http.get("/v1/sweeps")).json()
    assert [(s["name"], s["version"]) for s in listed["items"]] == [("search", 2)]
    versions = (await registry.http.get("/v1/sweeps/search/versions")).json()
    assert [v["version"] for v in versions["items"]] == [2, 1]
    found = await ask(registry, SWEEP_GET, "search@1")
    assert found.ok and found.result["spec"]["trials"] == 8 and found.result["target"] == "train@1"
    announced = await registry.events("sweep.registered")
    assert [(e["name"], e["target"]) for e in announced] == [
        ("search", "train@1"),
        ("search", "train@2"),
    ]


async def test_a_sweep_that_cannot_run_is_refused_naming_the_field(registry: Registry) -> None:
    status, body = await register(registry, "sweep", SEARCH)
    assert status == 422 and "target.component (line 3): no component 'train'" in str(body)
    await register(registry, "component", TRAIN)
    unknown = SEARCH.replace("  lr:", "  depth:")
    status, body = await register(registry, "sweep", unknown)
    assert status == 422
    assert "space.depth (line 6): 'depth' is not a param of component train@1" in str(body)
    status, body = await register(registry, "sweep", SEARCH.replace("low: 0.001", "low: 2.0"))
    assert status == 422 and "low (2.0) is greater than high (1.0)" in str(body)
    status, body = await register(registry, "sweep", SEARCH + "sampler: bayes\n")
    assert status == 422 and "sampler (line 9)" in str(body)
    missing = await registry.http.get("/v1/sweeps/nope")
    assert missing.status_code == 404 and "no sweep 'nope'" in missing.text
