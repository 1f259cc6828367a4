"""`boxops quickstart` on a fresh home, its facts checked through the HTTP API."""

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest

from boxops.cli.quickstart import _write_iris
from boxops.client import TERMINAL
from boxops.home import api_token, credentials_file, operator_login, read_state
from shared import manifest
from shared.bus import EVENTS
from shared.credentials import nats_login
from shared.events import FileEntry


@pytest.fixture(scope="module")
def quickstarted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    home = tmp_path_factory.mktemp("quickstart") / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    env["BOXOPS_HOME"] = str(home)
    # Outside data announced by a test lives under its tmp_path, below the base temp dir.
    env["BOXOPS_EXTERNAL_FILE_ROOTS"] = str(tmp_path_factory.getbasetemp())
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
    client = await nats.connect(state.nats_url, **operator_login(home))
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


def test_the_quickstart_ends_with_how_to_stop_it_and_the_web_uis_url(
    quickstarted: tuple[Path, str],
) -> None:
    state = read_state(quickstarted[0])
    assert state is not None
    assert quickstarted[1].rstrip().splitlines()[-4:] == [
        "The stack keeps running in the background (boxops status).",
        "Stop it with: boxops down",
        "See it all in the web UI (`boxops ui` opens it signed in):",
        f"  {state.gateway_url}/runs",
    ]


def _refs(nodes: list[dict[str, Any]]) -> set[str]:
    found = set()
    for node in nodes:
        found.add(f"{node['kind']}:{node['ref']}")
        found |= _refs(node.get("children", []))
    return found


def _apply(api: httpx.Client, kind: str, text: str) -> None:
    response = api.post(f"/v1/{kind}", content=text, headers={"content-type": "application/yaml"})
    assert response.status_code == 200, response.text


def _wait_pipeline(api: httpx.Client, trigger: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = api.get("/v1/runs", params={"trigger": trigger}).json()
        done = [r for r in runs if r["kind"] == "pipeline" and r["state"] in TERMINAL]
        if done:
            return api.get(f"/v1/runs/{done[0]['id']}").json()  # type: ignore[no-any-return]
        time.sleep(0.3)
    raise AssertionError(f"no run of trigger {trigger} ended within {timeout}s")


NEW_DATA = """
kind: trigger
name: retrain-on-outside-data
target:
  pipeline: iris-train
  inputs: {data: "{{ event.dataset }}@{{ event.version }}"}
event:
  subject: dataset.version.created
  where: {dataset: iris-outside, version: {exists: true}}
"""


def test_new_data_announced_by_another_system_retrains_with_that_version(
    api: httpx.Client, quickstarted: tuple[Path, str], tmp_path: Path
) -> None:
    _apply(api, "triggers", NEW_DATA)
    folder = tmp_path / "lake" / "iris"
    _write_iris(folder, noise=0.3, seed=7)  # new content, so a new model version
    rows = (folder / "iris.csv").read_bytes()
    entry = FileEntry(path="iris.csv", size=len(rows), sha256=hashlib.sha256(rows).hexdigest())
    digest = manifest.digest([entry])  # a folder's digest is that of its file manifest
    # Another system, with nothing but nats-py, ingress credentials and a bare JSON body:
    body = {"dataset": "iris-outside", "uri": folder.as_uri(), "digest": digest}
    asyncio.run(_announce(quickstarted[0], body))

    run = _wait_pipeline(api, "retrain-on-outside-data")
    assert run["state"] == "completed", run
    assert (run["inputs"]["data"]["name"], run["inputs"]["data"]["version"]) == ("iris-outside", 1)
    train = next(s for s in run["steps"] if s["step"] == "train")
    versions = api.get("/v1/models/iris-classifier/versions").json()["items"]
    model = next(v for v in versions if v["run_id"] == train["run_id"])
    lineage = api.get(f"/v1/lineage/models/iris-classifier/{model['version']}").json()
    assert "dataset:iris-outside@1" in _refs(lineage["upstream"])


async def _announce(home: Path, body: dict[str, Any]) -> None:
    state = read_state(home)
    assert state
    login = nats_login(credentials_file(home, "ingress"))
    client = await nats.connect(state.nats_url, **login)
    await client.jetstream().publish("dataset.version.created", json.dumps(body).encode())
    await client.close()


ON_DROP = """
kind: trigger
name: retrain-on-drop
target:
  pipeline: iris-train
  inputs: {data: iris@1}
event:
  subject: metric.below_threshold
  where: {monitor: iris-accuracy}
"""


def test_a_metric_drop_starts_the_retraining_pipeline_once(api: httpx.Client) -> None:
    _apply(api, "triggers", ON_DROP)

    def accuracy(value: float) -> None:
        point = {"name": "accuracy", "value": value, "labels": {"pipeline": "iris-train"}}
        assert api.post("/v1/events/metric.logged", json=point).status_code == 202

    accuracy(0.97)  # recovered past the band: the monitor re-arms
    accuracy(0.6)  # falls below 0.9: metric.below_threshold
    run = _wait_pipeline(api, "retrain-on-drop")
    assert run["state"] == "completed", run
    assert run["cause"]["trigger"] == "retrain-on-drop"
    accuracy(0.88)  # still low, inside the hysteresis band: nothing more starts
    time.sleep(2)
    firings = api.get("/v1/triggers/retrain-on-drop/history").json()
    assert [f["status"] for f in firings] == ["fired"]


def test_the_cli_answers_about_triggers_monitors_and_runs(
    quickstarted: tuple[Path, str], tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    env["BOXOPS_HOME"] = str(quickstarted[0])

    def boxops(*args: str) -> Any:
        result = subprocess.run(
            [sys.executable, "-m", "boxops.cli.main", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout) if "--json" in args else result.stdout

    names = {t["name"] for t in boxops("triggers", "list", "--json")}
    assert "retrain-on-new-iris" in names
    firings = boxops("triggers", "history", "retrain-on-new-iris", "--json")
    assert firings[-1]["status"] == "fired"
    assert boxops("monitors", "history", "iris-accuracy", "--json")[-1]["kind"] == "below"
    failed = boxops("runs", "list", "--status", "failed", "--json")
    assert all(r["state"] == "failed" for r in failed)
    spec = tmp_path / "dry.yaml"
    spec.write_text(
        "kind: trigger\nname: dry\ntarget: {pipeline: iris-train, inputs: {data: "
        '"{{ event.dataset }}@{{ event.version }}"}}\n'
        "event: {subject: dataset.version.created, where: {dataset: iris}}\n"
    )
    dry = boxops("triggers", "test", str(spec), "--since", "1h", "--json")
    assert {w["inputs"]["data"] for w in dry["would"] if w["action"] == "start run"} >= {
        "iris@1",
        "iris@2",
    }
    published = boxops("events", "publish", "metric.logged", '{"name": "x", "value": 1}')
    assert "published" in published
