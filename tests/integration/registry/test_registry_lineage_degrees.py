"""Each lineage node says how many edges come into it and go out of it, shown or not, so a
graph drawn from a few hops knows which nodes have more around them."""

from typing import Any

from shared.events import InputRef, RunOutput
from tests.integration.registry.conftest import Registry
from tests.integration.registry.test_registry_runs import (
    MODEL,
    completed,
    lineage,
    publish_run,
)

IRIS = {"data": InputRef(type="dataset", name="iris", version=1)}


def degrees(node: dict[str, Any]) -> dict[str, tuple[int, int]]:
    found = {node["ref"]: (node["edges_in"], node["edges_out"])}
    for child in node["children"]:
        found |= degrees(child)
    return found


async def test_a_node_counts_its_edges_both_ways_beyond_what_is_shown(
    registry: Registry,
) -> None:
    response = await registry.http.post("/v1/datasets/iris/versions", json={"uri": "s3://b/iris"})
    assert response.status_code == 201
    model = RunOutput(type="model", name="clf", files=MODEL)
    await publish_run(registry, completed("run-a", inputs=IRIS, outputs={"m": model}), "ev-a")
    await publish_run(registry, completed("run-b", inputs=IRIS), "ev-b")
    await lineage(registry, "runs/run-b")
    # The model version is recorded once its files are found in the store: wait for it too.
    found = await lineage(registry, "models/clf/1?depth=2")

    assert (found["root"]["edges_in"], found["root"]["edges_out"]) == (1, 0)
    # iris@1 is shown with the one run that made clf; it feeds run-b too.
    assert degrees(found["upstream"][0]) == {"run-a": (1, 1), "iris@1": (0, 2)}
