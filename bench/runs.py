"""The walking skeleton's figures on the embedded stack (SQLite, local executor).

- `boxops up --detach` until every service answers its health request;
- 200 trivial runs (`true`) submitted one after another: HTTP accepted → process started,
  and HTTP accepted → run.completed seen on the bus.
"""

import asyncio
import json
import time
from datetime import datetime
from pathlib import Path

import httpx
import nats
from nats.aio.msg import Msg

from bench.embedded import connect, embedded
from bench.stats import summary
from boxops.home import api_token, read_state

RUNS = 200


async def main() -> None:
    with embedded() as (home, _, up_s):
        print(f"{'boxops up --detach → all healthy':<40} {up_s:.2f} s")
        await _runs(home)


async def _runs(home: Path) -> None:
    state = read_state(home)
    assert state
    bus = await connect(home, state.nats_url)
    headers = {"Authorization": f"Bearer {api_token(home)}"}
    await run_path(bus, state.gateway_url, headers)
    await bus.close()


async def run_path(
    bus: nats.NATS, gateway_url: str, headers: dict[str, str], label: str = ""
) -> None:
    """Submit RUNS runs of `true` one after another; print the latencies of their path."""
    completed: dict[str, asyncio.Future[float]] = {}

    async def on_completed(msg: Msg) -> None:
        run_id = json.loads(msg.data)["run_id"]
        completed.setdefault(run_id, asyncio.get_running_loop().create_future())
        if not completed[run_id].done():
            completed[run_id].set_result(time.time())

    subscription = await bus.subscribe("run.completed", cb=on_completed)
    to_started, to_completed = [], []
    async with httpx.AsyncClient(base_url=gateway_url, headers=headers) as http:
        for _ in range(RUNS):
            accepted = time.time()  # request sent: the gateway's handling counts too
            response = await http.post("/v1/runs", json={"command": ["true"]})
            run_id = response.json()["id"]
            future = completed.setdefault(run_id, asyncio.get_running_loop().create_future())
            done = await asyncio.wait_for(future, 30)
            run = (await http.get(f"/v1/runs/{run_id}")).json()
            running = next(t for t in run["history"] if t["state"] == "running")
            to_started.append(datetime.fromisoformat(running["at"]).timestamp() - accepted)
            to_completed.append(done - accepted)
    await subscription.unsubscribe()
    print(summary(f"{label}accepted → process started", to_started))
    print(summary(f"{label}accepted → run.completed recorded", to_completed))
