"""The quickstart's iris pipeline with every step on Ray: registry, artifact store,
scheduler and a gateway served on a real port (the nodes fetch and store through it), and a
Ray-only executor in front of the loopback cluster (ray_loopback.py)."""

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from boxops.cli.quickstart import _write_iris, examples_dir
from boxops.cli.spec_files import spec_text
from services.artifact.app import build_app as build_artifact
from services.artifact.settings import ArtifactSettings
from services.gateway.app import build_app as build_gateway
from services.gateway.settings import GatewaySettings
from services.scheduler.app import build_app as build_scheduler
from services.scheduler.settings import SchedulerSettings
from shared.service import Service
from tests.conftest import eventually, free_port
from tests.integration.conftest import build_other, wait_run
from tests.integration.executor_harness import Harness, start_harness
from tests.integration.ray_loopback import LoopbackRay

TOKEN = "token-for-ray-tests"
SECRET = "run-token-secret-for-ray-tests"
PIPELINE_S = 300
TABLE = ("--type", "table")


@dataclass
class Platform:
    url: str
    http: httpx.AsyncClient
    home: Path


@pytest.fixture
async def platform(nats_url: str, tmp_path: Path) -> AsyncIterator[Platform]:
    home = tmp_path / "home"
    common: dict[str, Any] = {"nats_url": nats_url, "home": home}
    db = (f"sqlite+aiosqlite:///{tmp_path / 'scheduler.db'}", "main")
    artifact = build_artifact(
        ArtifactSettings(
            **common,
            artifact_url=(home / "blobs").as_uri(),
            artifact_port=0,
            db_url=f"sqlite+aiosqlite:///{tmp_path / 'artifact.db'}",
        )
    )
    services: list[Service] = [
        artifact,
        build_other("registry", common, db, None),
        build_scheduler(SchedulerSettings(**common, db_url=db[0], db_schema=db[1])),
    ]
    for service in services:
        await service.start()
    port = free_port()
    gateway = build_gateway(
        GatewaySettings(**common, port=port, api_token=TOKEN, run_token_secret=SECRET)
    )
    server = uvicorn.Server(uvicorn.Config(gateway, port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())

    async def started() -> bool:
        return server.started

    await eventually(started, timeout=20)
    url = f"http://127.0.0.1:{port}"
    http = httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"})
    yield Platform(url, http, home)
    await http.aclose()
    server.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await serving
    for service in reversed(services):
        await service.stop()


@pytest.fixture
async def ray_executor(
    loopback_ray: LoopbackRay, platform: Platform, nats_url: str, tmp_path: Path
) -> AsyncIterator[Harness]:
    harness = await start_harness(
        "ray",
        nats_url,
        tmp_path / "executor",
        executor_id="ray-iris",
        ray_address=loopback_ray.address,
        ray_gpu_resource="fakegpu",
        gateway_url=platform.url,
        api_token=TOKEN,
        run_token_secret=SECRET,
        heartbeat_s=0.5,
    )
    yield harness
    await harness.service.stop()
    await harness.client.close()


def push_iris(platform: Platform, folder: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    env |= {"BOXOPS_GATEWAY_URL": platform.url, "BOXOPS_API_TOKEN": TOKEN}
    env["BOXOPS_HOME"] = str(platform.home / "cli")
    done = subprocess.run(
        [sys.executable, "-m", "boxops.cli.main", "datasets", "push", "iris", str(folder), *TABLE],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


async def register(platform: Platform, kind: str, text: str) -> None:
    response = await platform.http.post(
        f"/v1/{kind}", content=text, headers={"content-type": "application/yaml"}
    )
    assert response.status_code in (200, 201), response.text


async def test_the_iris_pipeline_runs_every_step_on_ray(
    platform: Platform, ray_executor: Harness, tmp_path: Path
) -> None:
    await asyncio.to_thread(_write_iris, tmp_path / "iris", noise=0.0, seed=1)
    await asyncio.to_thread(push_iris, platform, tmp_path / "iris")
    example = examples_dir()
    for name in ("prepare", "train", "evaluate"):
        await register(
            platform, "components", spec_text(example / f"{name}.yaml") + "\nbackend: ray\n"
        )
    await register(platform, "pipelines", spec_text(example / "pipeline.yaml"))
    response = await platform.http.post(
        "/v1/runs", json={"pipeline": "iris-train", "inputs": {"data": "iris@1"}}
    )
    assert response.status_code == 202, response.text
    run = await wait_run(platform.http, response.json()["id"], timeout=PIPELINE_S)

    assert run["state"] == "completed", run
    steps = {
        s["step"]: (await platform.http.get(f"/v1/runs/{s['run_id']}")).json() for s in run["steps"]
    }
    assert {step["executor_id"] for step in steps.values()} == {"ray-iris"}
    assert {step["backend"] for step in steps.values()} == {"ray"}
    assert steps["evaluate"]["metrics"]["accuracy"]["last"] > 0.8
    assert any(a["kind"] == "confusion_matrix" for a in steps["evaluate"]["artifacts"])

    async def model() -> dict[str, Any] | None:
        found = await platform.http.get("/v1/models/iris-classifier/versions")
        items = found.json().get("items") if found.status_code == 200 else None
        return items[0] if items else None

    version = await eventually(model, timeout=30)
    assert isinstance(version, dict)
    assert version["run_id"] == steps["train"]["id"]
    assert 0 < version["metrics"]["train_accuracy"] <= 1
    upstream = (await platform.http.get("/v1/lineage/models/iris-classifier/1")).json()
    assert "dataset:iris@1" in refs(upstream["upstream"])


def refs(nodes: list[dict[str, Any]]) -> set[str]:
    """Every `kind:ref` of a lineage tree."""
    found = set()
    for node in nodes:
        found.add(f"{node['kind']}:{node['ref']}")
        found |= refs(node.get("children", []))
    return found
