"""What NVML sees on this machine, and one `gpu: 1` run on the embedded stack that records
its GPU's use as `system/gpu_*` metrics. On a machine without an NVIDIA driver it says so
and runs nothing.

`python -m bench gpu`
"""

import asyncio

import httpx

from bench.embedded import embedded
from boxops.home import api_token
from services.executor.nvml import NvmlDevices

SECONDS = 6  # the run's length: several samples at one a second


async def main() -> None:
    devices = NvmlDevices().devices()
    if not devices:
        print("gpu: NVML sees no GPU on this machine (no NVIDIA driver): nothing to run")
        return
    for device in devices:
        print(f"gpu {device.id}: {device.name}, {device.memory_mb:,} MiB, {device.uuid}")
    with embedded(settings={"BOXOPS_EXECUTOR_SAMPLE_S": "1"}) as (home, state, _):
        headers = {"Authorization": f"Bearer {api_token(home)}"}
        async with httpx.AsyncClient(
            base_url=state.gateway_url, headers=headers, timeout=60
        ) as http:
            body = {
                "command": ["sh", "-c", f'echo "devices: $CUDA_VISIBLE_DEVICES"; sleep {SECONDS}'],
                "resources": {"gpu": 1},
            }
            answer = await http.post("/v1/runs", json=body)
            answer.raise_for_status()
            run_id = answer.json()["id"]
            run = await _ended(http, run_id)
            print(f"gpu: run {run_id} {run['state']}, devices {run.get('devices')}")
            print(f"gpu: usage {run.get('usage')}")
            metrics = (await http.get(f"/v1/runs/{run_id}/metrics")).json()
            for name, summary in sorted(metrics.items()):
                if name.startswith("system/gpu"):
                    print(f"gpu: {name:<32} {summary}")


async def _ended(http: httpx.AsyncClient, run_id: str) -> dict[str, object]:
    while True:
        run: dict[str, object] = (await http.get(f"/v1/runs/{run_id}")).json()
        if run["state"] in ("completed", "failed", "aborted"):
            return run
        await asyncio.sleep(0.5)
