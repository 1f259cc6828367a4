"""The SDK inside real black boxes: metrics batched to the gateway with the run's token,
a buffer when the platform cannot be reached, params, tags and artifacts at the end."""

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx

from shared.artifacts import ConfusionMatrix
from shared.bus import TELEMETRY
from shared.events import MetricsLogged
from shared.run_token import run_token
from tests.conftest import eventually
from tests.integration.conftest import wait_run
from tests.integration.executor_harness import start_harness
from tests.integration.sdk_stack import SECRET, SdkStack, sdk_stack_fixture  # noqa: F401


def python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


IN_AN_HOUR = int(time.time()) + 3600
TRAIN = """
    import boxops
    for step in range(1000):
        boxops.log_metric("loss", 1 / (step + 1), step=step)
    boxops.log_metrics({"acc": 0.93, "f1": 0.9}, step=999)
    boxops.log_params({"lr": 0.01, "layers": [64, 32]})
    boxops.set_tag("team", "vision")
    print("trained", boxops.run_id())
"""


async def test_metrics_logged_with_the_sdk_are_recorded_for_the_run(sdk_stack: SdkStack) -> None:
    response = await sdk_stack.http.post("/v1/runs", json={"command": python(TRAIN)})
    run_id = response.json()["id"]
    run = await wait_run(sdk_stack.http, run_id, timeout=30)

    assert run["state"] == "completed", run
    metrics = (await sdk_stack.http.get(f"/v1/runs/{run_id}/metrics")).json()
    assert metrics["summary"]["loss"]["count"] == 1000
    assert metrics["summary"]["loss"]["last"] == 0.001
    assert metrics["summary"]["acc"]["last"] == 0.93
    logs = (await sdk_stack.http.get(f"/v1/runs/{run_id}/logs?format=text")).text
    assert f"trained {run_id}" in logs


LIVE = """
    import time, boxops
    boxops.log_metric("live", 1.0, step=1)
    time.sleep(60)
"""


async def test_a_sandboxed_runs_metrics_reach_the_gateway_while_it_runs(
    sdk_stack: SdkStack,
) -> None:
    """No network in the sandbox: the SDK sends through the gateway's socket, not at the end
    (the buffer) only."""
    response = await sdk_stack.http.post("/v1/runs", json={"command": python(LIVE)})
    run_id = response.json()["id"]

    async def live() -> bool:
        metrics = (await sdk_stack.http.get(f"/v1/runs/{run_id}/metrics")).json()
        return "live" in metrics.get("summary", {})

    try:
        await eventually(live, timeout=20)
        run = (await sdk_stack.http.get(f"/v1/runs/{run_id}")).json()
        assert run["state"] == "running", run
    finally:
        await sdk_stack.http.post(f"/v1/runs/{run_id}/abort")


MANY = """
    import boxops
    for step in range(12_345):
        boxops.log_metric("loss", 1 / (step + 1), step=step)
"""


async def test_many_points_travel_in_batches_and_are_all_read_back(sdk_stack: SdkStack) -> None:
    response = await sdk_stack.http.post("/v1/runs", json={"command": python(MANY)})
    run_id = response.json()["id"]
    run = await wait_run(sdk_stack.http, run_id, timeout=60)

    assert run["state"] == "completed", run

    async def all_stored() -> dict[str, Any] | None:
        route = f"/v1/runs/{run_id}/metrics?points=20000"  # all of them: not thinned
        metrics = (await sdk_stack.http.get(route)).json()
        loss = metrics["summary"].get("loss", {})
        return metrics if loss.get("count") == 12_345 else None  # type: ignore[no-any-return]

    series = (await eventually(all_stored, timeout=30))["series"]["loss"]  # type: ignore[index]
    assert [p["step"] for p in series] == list(range(12_345))
    assert series[7777]["value"] == 1 / 7778
    js = sdk_stack.scheduler.bus.nats.jetstream
    info = await js.stream_info(TELEMETRY.name, subjects_filter=MetricsLogged.subject)
    messages = info.state.subjects[MetricsLogged.subject]
    assert messages <= 12_345 / 100  # many points a message, not a message a point


async def test_the_gateway_takes_a_run_token_only_for_its_own_run(sdk_stack: SdkStack) -> None:
    body = {"points": [{"id": "1", "name": "acc", "value": 0.5}]}
    async with httpx.AsyncClient(base_url=sdk_stack.url) as anonymous:
        own = {"Authorization": f"Bearer {run_token(SECRET, 'run-a', IN_AN_HOUR)}"}
        ok = await anonymous.post("/v1/sdk/runs/run-a/metrics", json=body, headers=own)
        other = await anonymous.post("/v1/sdk/runs/run-b/metrics", json=body, headers=own)
        none = await anonymous.post("/v1/sdk/runs/run-a/metrics", json=body)
        runs = await anonymous.get("/v1/runs", headers=own)

    assert ok.status_code == 200, ok.text
    assert ok.json() == {"recorded": 1}
    assert other.status_code == 403
    assert none.status_code == 401
    assert runs.status_code == 403  # a run token opens its own run's routes only
    assert "a run's token opens only its own run's routes" in runs.json()["detail"]


async def test_an_unreachable_platform_never_fails_the_black_box(
    nats_url: str, tmp_path: Path
) -> None:
    # The gateway URL given to runs answers nothing: the SDK buffers, the executor replays.
    harness = await start_harness(
        "local", nats_url, tmp_path / "home", gateway_url="http://127.0.0.1:9", run_token_secret="s"
    )
    try:
        run_id = await harness.dispatch(python(TRAIN))
        ended = await harness.ended(run_id)
    finally:
        await harness.service.stop()
        await harness.client.close()

    assert ended.exit_code == 0, ended
    assert ended.params == {"lr": 0.01, "layers": [64, 32]}
    assert ended.tags == {"team": "vision"}
    assert ended.metrics["loss"] == 0.001
    assert ended.metrics["acc"] == 0.93
    assert len(harness.points[run_id]) == 1002
    buffer = harness.workdir(run_id) / "sdk" / "metrics.jsonl"
    assert len(buffer.read_text().splitlines()) == 1002


def test_outside_a_run_the_sdk_writes_to_a_local_folder(tmp_path: Path) -> None:
    code = textwrap.dedent(TRAIN) + "boxops.log_confusion_matrix([0, 1, 1], [0, 1, 0], [0, 1])\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    done = subprocess.run(python(code), cwd=tmp_path, env=env, capture_output=True, text=True)

    assert done.returncode == 0, done.stderr
    assert "trained None" in done.stdout
    [folder] = (tmp_path / "boxops-local").iterdir()
    assert len((folder / "metrics.jsonl").read_text().splitlines()) == 1002
    records = [json.loads(x) for x in (folder / "records.jsonl").read_text().splitlines()]
    assert {"kind": "tag", "name": "team", "value": "vision"} in records
    matrix = json.loads((folder / "artifacts" / "confusion_matrix.json").read_text())
    assert ConfusionMatrix.model_validate(matrix).matrix == [[1, 0], [1, 1]]
    assert matrix["labels"] == ["0", "1"]


FOLLOWED = """
import time
print(f"{time.time():.6f}", flush=True)
time.sleep(5)
"""


async def test_a_printed_line_is_visible_to_a_log_follower_within_a_second(
    sdk_stack: SdkStack,
) -> None:
    response = await sdk_stack.http.post("/v1/runs", json={"command": python(FOLLOWED)})
    run_id = response.json()["id"]

    async def printed() -> list[dict[str, Any]]:
        # What `boxops runs logs -f` reads, polled here as fast as it goes.
        logs = await sdk_stack.http.get(f"/v1/runs/{run_id}/logs")
        return logs.json()["lines"] if logs.status_code == 200 else []  # type: ignore[no-any-return]

    [line] = await eventually(printed, timeout=10, interval=0.01)  # type: ignore[misc]
    assert time.time() - float(line["line"]) < 1.0
    await sdk_stack.http.post(f"/v1/runs/{run_id}/abort")
