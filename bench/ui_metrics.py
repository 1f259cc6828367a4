"""A chart's data: one metric of 200,000 points, thinned by the scheduler to at most 1,000
and served by the gateway (`GET /v1/runs/{id}/metrics/{name}/series`), end to end over
HTTP with a kept-alive client, on the embedded stack with SQLite and with PostgreSQL; and
the CPU the scheduler and the gateway spent a request (on a busy machine the wall time
waits for a core; PostgreSQL's own work is not in that CPU figure).

The points are sent as the SDK sends them: batches to `POST /v1/sdk/runs/{id}/metrics`.
"""

import asyncio
import math
import time

import httpx

from bench.embedded import embedded, service_pids
from bench.stats import cpu_s, summary
from bench.triggers import _fresh_pg_database
from boxops.home import api_token

POINTS = 200_000
BATCH = 5_000  # the SDK's batch
REQUESTS = 30
SHOWN = 1_000
AT = 1.8e9


async def main() -> None:
    for label, db_url in (("sqlite", None), ("postgres", await _fresh_pg_database())):
        with embedded(db_url) as (home, state, _):
            headers = {"Authorization": f"Bearer {api_token(home)}"}
            async with httpx.AsyncClient(
                base_url=state.gateway_url, headers=headers, timeout=60
            ) as http:
                pids = await service_pids(home, state)
                await _measure(label, http, [pids["scheduler"], pids["gateway"]])


async def _measure(label: str, http: httpx.AsyncClient, pids: list[int]) -> None:
    run_id = (await http.post("/v1/runs", json={"command": ["true"]})).json()["id"]
    began = time.perf_counter()
    for start in range(0, POINTS, BATCH):
        batch = [_point(i) for i in range(start, start + BATCH)]
        answer = await http.post(f"/v1/sdk/runs/{run_id}/metrics", json={"points": batch})
        answer.raise_for_status()
    await _stored(http, run_id)
    print(f"{label}: {POINTS:,} points logged and stored   {time.perf_counter() - began:.1f} s")
    for axis in ("step", "time"):
        route = f"/v1/runs/{run_id}/metrics/loss/series"
        params = {"points": SHOWN, "x": axis}
        took = []
        cpu_before = sum(map(cpu_s, pids))
        for _ in range(REQUESTS):
            sent = time.perf_counter()
            answer = await http.get(route, params=params)
            took.append(time.perf_counter() - sent)
            answer.raise_for_status()
        cpu_ms = (sum(map(cpu_s, pids)) - cpu_before) / REQUESTS * 1000
        shown = len(answer.json()["points"])
        print(summary(f"{label}: chart data by {axis} ({shown} pts)", took))
        print(f"{label}: scheduler + gateway CPU a request, by {axis}   {cpu_ms:.0f} ms")


def _point(i: int) -> dict[str, object]:
    value = math.exp(-i / 50_000) + 0.05 * math.sin(i / 37)
    return {"id": f"p{i}", "name": "loss", "value": value, "step": i, "at": AT + i / 100}


async def _stored(http: httpx.AsyncClient, run_id: str) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        metrics = (await http.get(f"/v1/runs/{run_id}")).json()["metrics"]
        if metrics.get("loss", {}).get("count") == POINTS:
            return
        await asyncio.sleep(0.5)
    raise TimeoutError(f"the {POINTS} points were not stored within 300 s")
