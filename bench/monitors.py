"""Monitor figures on the embedded stack (SQLite): how fast a monitor takes metric points
now that it keeps each point it sees for its chart.

- 50 `metrics.logged` batches of 1,000 points each (past the 10,000 a monitor keeps),
  published at once over HTTP: the time until the monitor has seen the last point, as
  points per second;
- the chart's data: `GET /v1/monitors/{name}/points?limit=1000`, 50 times.
"""

import asyncio
import time

import httpx

from bench.embedded import embedded
from bench.stats import summary
from boxops.home import api_token

BATCHES = 50  # 50,000 points: past the 10,000 a monitor keeps, so old ones are dropped too
POINTS = 1000
MONITOR = """
kind: monitor
name: bench-accuracy
metric: accuracy
where: {pipeline: bench}
below: 0.5
"""


async def main() -> None:
    with embedded() as (home, state, _):
        headers = {"Authorization": f"Bearer {api_token(home)}"}
        async with httpx.AsyncClient(
            base_url=state.gateway_url, headers=headers, timeout=60
        ) as http:
            yaml = {"content-type": "application/yaml"}
            (await http.post("/v1/monitors", content=MONITOR, headers=yaml)).raise_for_status()
            await _ingest(http)
            await _chart_data(http)


async def _ingest(http: httpx.AsyncClient) -> None:
    began = time.perf_counter()
    for batch in range(BATCHES):
        points = [
            {"name": "accuracy", "value": 0.9 - (batch * POINTS + i) * 1e-6, "step": i}
            for i in range(POINTS)
        ]
        body = {"labels": {"pipeline": "bench"}, "points": points}
        (await http.post("/v1/events/metrics.logged", json=body)).raise_for_status()
    last = 0.9 - (BATCHES * POINTS - 1) * 1e-6
    while True:  # the monitor's state holds the last point it saw
        state = (await http.get("/v1/monitors/bench-accuracy")).json()["state"] or {}
        if state.get("points") and abs(state["points"][-1][1] - last) < 1e-12:
            break
        await asyncio.sleep(0.05)
    took = time.perf_counter() - began
    total = BATCHES * POINTS
    print(f"{'monitor: points seen and kept':<40} {total / took:,.0f} points/s ({took:.2f} s)")


async def _chart_data(http: httpx.AsyncClient) -> None:
    times = []
    for _ in range(50):
        began = time.perf_counter()
        (await http.get("/v1/monitors/bench-accuracy/points?limit=1000")).raise_for_status()
        times.append(time.perf_counter() - began)
    print(summary("monitor chart data (1,000 points)", times))
