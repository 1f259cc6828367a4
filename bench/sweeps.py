"""Sweep figures on the embedded stack (SQLite): a 200-trial sweep of a no-op black box
(it only prints its objective) with `parallel: 8`, timed from its request to its end, and
the tuner's overhead per trial: a trial's `run.completed` → the next trial's
`run.requested` (when each message reached NATS). Targets: p50 ≤ 20 ms, the sweep ≤ 15 s.
"""

import asyncio
import json
import time

import httpx
from nats.aio.msg import Msg

from bench.embedded import connect, embedded
from bench.stats import summary
from boxops.home import api_token

TRIALS = 200
NOOP = """
kind: component
name: noop
command: [sh, -c, "echo ::metric name=score value={{ params.x }}"]
params:
  x: {type: float, default: 0}
resources: {cpu: 0.1, memory_mb: 16}
"""
SWEEP = f"""
kind: sweep
name: noop-search
target: {{component: noop}}
objective: {{metric: score, direction: maximize}}
space:
  x: {{type: float, low: 0, high: 1}}
sampler: random
trials: {TRIALS}
parallel: 8
"""


async def main() -> None:
    with embedded() as (home, state, _):
        token = api_token(home)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(
            base_url=state.gateway_url, timeout=30, headers=headers
        ) as http:
            for kind, text in (("components", NOOP), ("sweeps", SWEEP)):
                found = await http.post(
                    f"/v1/{kind}", content=text, headers={"content-type": "application/yaml"}
                )
                found.raise_for_status()
            client = await connect(home, state.nats_url)
            requested: list[float] = []
            completed: list[float] = []

            async def on_requested(msg: Msg) -> None:
                if json.loads(msg.data).get("parent_run_id"):
                    requested.append(time.perf_counter())

            async def on_completed(msg: Msg) -> None:
                if json.loads(msg.data).get("parent_run_id"):
                    completed.append(time.perf_counter())

            await client.subscribe("run.requested", cb=on_requested)
            await client.subscribe("run.completed", cb=on_completed)
            started = time.perf_counter()
            submitted = await http.post("/v1/runs", json={"sweep": "noop-search"})
            submitted.raise_for_status()
            run_id = submitted.json()["id"]
            while True:
                run = (await http.get(f"/v1/runs/{run_id}")).json()
                if run["state"] in ("completed", "failed", "aborted"):
                    break
                await asyncio.sleep(0.1)
            took = time.perf_counter() - started
            await client.close()
    print(f"{TRIALS}-trial no-op sweep, parallel 8: {took:.1f} s ({run['state']}: {run['reason']})")
    # Each completion but the last few is followed by the next trial's request.
    overhead = [
        next(r for r in requested if r >= done) - done
        for done in completed
        if any(r >= done for r in requested)
    ]
    print(summary("trial completed → next trial requested", overhead))
