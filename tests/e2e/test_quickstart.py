"""`boxops quickstart` on a fresh home, its facts checked through the HTTP API."""

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest

from boxops.home import api_token, read_state
from shared.bus import EVENTS


@pytest.fixture(scope="module")
def quickstarted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    home = tmp_path_factory.mktemp("quickstart") / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    env["BOXOPS_HOME"] = str(home)
    result = subprocess.run(
        [sys.executable, "-m", "boxops.cli.main", "quickstart"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    try:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        yield home, result.stdout
    finally:
        subprocess.run(
            [sys.executable, "-m", "boxops.cli.main", "down"],
            env=env,
            capture_output=True,
            timeout=120,
        )


@pytest.fixture(scope="module")
def api(quickstarted: tuple[Path, str]) -> Iterator[httpx.Client]:
    home, _ = quickstarted
    state = read_state(home)
    assert state
    headers = {"Authorization": f"Bearer {api_token(home)}"}
    with httpx.Client(base_url=state.gateway_url, headers=headers, timeout=30) as client:
        yield client


def pipeline_runs(api: httpx.Client) -> list[dict[str, Any]]:
    runs = api.get("/v1/runs", params={"pipeline": "iris-train", "limit": 100}).json()
    return sorted((r for r in runs if r["kind"] == "pipeline"), key=lambda r: r["created_at"])


def test_two_pipeline_runs_completed(api: httpx.Client) -> None:
    runs = pipeline_runs(api)
    assert [r["state"] for r in runs] == ["completed", "completed"]
    assert [r["inputs"]["data"]["version"] for r in runs] == [1, 2]


def test_the_second_run_was_caused_by_the_new_version_of_iris(
    api: httpx.Client, quickstarted: tuple[Path, str]
) -> None:
    second = pipeline_runs(api)[1]
    cause = second["cause"]
    assert (cause["kind"], cause["trigger"]) == ("event", "retrain-on-new-iris")
    event = asyncio.run(_event(quickstarted[0], cause["event_id"]))
    assert event["dataset"] == "iris"
    assert event["version"] == 2


async def _event(home: Path, event_id: str) -> dict[str, Any]:
    """The dataset.version.created event with this id, read back from the stream."""
    state = read_state(home)
    assert state
    client = await nats.connect(state.nats_url)
    js = client.jetstream()
    subscription = await js.pull_subscribe("dataset.version.created", stream=EVENTS.name)
    try:
        while True:
            for message in await subscription.fetch(100, timeout=2):
                if (message.headers or {}).get("ce-id") == event_id:
                    return json.loads(message.data)  # type: ignore[no-any-return]
    finally:
        await client.close()


def test_model_versions_1_and_2_have_metrics(api: httpx.Client) -> None:
    versions = api.get("/v1/models/iris-classifier/versions").json()["items"]
    by_number = {v["version"]: v for v in versions}
    assert set(by_number) == {1, 2}
    for version in by_number.values():
        assert 0 < version["metrics"]["train_accuracy"] <= 1
        assert version["run_id"]


def test_each_evaluation_stored_a_confusion_matrix_with_a_preview(api: httpx.Client) -> None:
    for listed in pipeline_runs(api):
        run = api.get(f"/v1/runs/{listed['id']}").json()
        evaluate = next(s for s in run["steps"] if s["step"] == "evaluate")
        step = api.get(f"/v1/runs/{evaluate['run_id']}").json()
        assert step["metrics"]["accuracy"]["last"] > 0
        matrix = next(a for a in step["artifacts"] if a["kind"] == "confusion_matrix")
        preview = api.get(f"/v1/artifacts/{matrix['sha256']}/preview")
        assert preview.status_code == 200, preview.text


def test_lineage_leads_from_iris_2_through_the_run_to_model_2(api: httpx.Client) -> None:
    upstream = api.get("/v1/lineage/models/iris-classifier/2").json()
    assert "dataset:iris@2" in _refs(upstream["upstream"])
    downstream = api.get("/v1/lineage/datasets/iris/2").json()
    assert "model:iris-classifier@2" in _refs(downstream["downstream"])
    second = pipeline_runs(api)[1]
    assert any(ref.startswith(f"run:{second['id']}") for ref in _refs(downstream["downstream"]))


def test_the_monitor_saw_accuracy_fall(api: httpx.Client, quickstarted: tuple[Path, str]) -> None:
    crossings = api.get("/v1/monitors/iris-accuracy/history").json()
    assert [c["kind"] for c in crossings] == ["below"]
    assert "fell below 0.9" in quickstarted[1]


def _refs(nodes: list[dict[str, Any]]) -> set[str]:
    found = set()
    for node in nodes:
        found.add(f"{node['kind']}:{node['ref']}")
        found |= _refs(node.get("children", []))
    return found
