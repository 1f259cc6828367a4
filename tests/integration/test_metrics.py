"""Metric points of a run through the gateway's SDK route: batched on the bus, stored once,
read back in order, on both databases."""

from typing import Any

from tests.conftest import eventually
from tests.integration.conftest import Stack, wait_run

POINTS = 2_500  # three metrics.logged messages


def points(start: int, stop: int) -> list[dict[str, Any]]:
    return [
        {"id": f"p{i}", "name": "loss", "value": 1 / (i + 1), "step": i, "at": 1.8e9 + i / 1000}
        for i in range(start, stop)
    ]


async def stored(stack: Stack, run_id: str, count: int) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        metrics = (await stack.http.get(f"/v1/runs/{run_id}/metrics")).json()
        loss = metrics["summary"].get("loss", {})
        return metrics if loss.get("count") == count else None  # type: ignore[no-any-return]

    return await eventually(check, timeout=20)  # type: ignore[return-value]


async def test_a_batch_of_points_is_stored_once_and_read_back_in_order(stack: Stack) -> None:
    run_id = (await stack.http.post("/v1/runs", json={"command": ["true"]})).json()["id"]
    await wait_run(stack.http, run_id)
    route = f"/v1/sdk/runs/{run_id}/metrics"

    first = await stack.http.post(route, json={"points": points(0, POINTS)})
    assert first.json() == {"recorded": POINTS}
    # Sent again (the SDK's reply was lost) and overlapping with the next batch: no doubles.
    await stack.http.post(route, json={"points": points(0, POINTS)})
    await stack.http.post(route, json={"points": points(POINTS - 10, POINTS + 10)})
    metrics = await stored(stack, run_id, POINTS + 10)

    series = metrics["series"]["loss"]
    assert [p["step"] for p in series] == list(range(POINTS + 10))
    assert series[1234]["value"] == 1 / 1235
    assert series[1234]["at"].startswith("2027-01-15T08:00:01.234")
    assert metrics["summary"]["loss"]["last"] == 1 / (POINTS + 10)


async def test_a_long_series_is_thinned_and_its_summary_counts_every_point(stack: Stack) -> None:
    run_id = (await stack.http.post("/v1/runs", json={"command": ["true"]})).json()["id"]
    await wait_run(stack.http, run_id)
    route = f"/v1/sdk/runs/{run_id}/metrics"
    steps = [*points(0, POINTS), {"id": "acc", "name": "acc", "value": 0.9, "at": 1.8e9}]
    await stack.http.post(route, json={"points": steps})
    await stored(stack, run_id, POINTS)

    thinned = (await stack.http.get(f"/v1/runs/{run_id}/metrics?points=100")).json()
    series = [p["step"] for p in thinned["series"]["loss"]]
    every = -(-POINTS // 99)  # every k-th point, k = ceil(2500 / 99) = 26, and the last
    assert series == [*range(0, POINTS, every), POINTS - 1]
    assert len(series) <= 100
    assert thinned["series"]["acc"] == [{"step": None, "value": 0.9, "at": "2027-01-15T08:00:00Z"}]
    loss = {"last": 1 / POINTS, "min": 1 / POINTS, "max": 1.0, "count": POINTS}
    assert thinned["summary"]["loss"] == {**loss, "last_step": POINTS - 1}
    run = (await stack.http.get(f"/v1/runs/{run_id}")).json()
    assert run["metrics"] == thinned["summary"]
    assert run["metrics"]["acc"]["count"] == 1
