"""Disk use that does not only grow (issue 17 #6): a completed run's work dir goes once its
outputs and log are archived; a failed run's is kept `keep_failed_workdirs_s`, then swept;
a run's log is kept once, archived in the artifact store, where `runs logs` reads it."""

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import nats
import pytest
from nats.js.errors import NotFoundError

from services.artifact.app import build_app as build_artifact
from services.artifact.settings import ArtifactSettings
from shared.bus import TELEMETRY
from shared.service import Service
from tests.conftest import eventually
from tests.integration.conftest import submit, wait_run
from tests.integration.sdk_stack import SdkStack, start_sdk_stack, stop_sdk_stack
from tests.integration.test_runs_logs_cli import boxops

KEEP_S = 3.0


@dataclass
class Stack:
    sdk: SdkStack
    artifact: Service
    home: Path
    nats_url: str

    @property
    def work_dirs(self) -> Path:
        return self.sdk.executor.settings.work_dirs()  # type: ignore[attr-defined,no-any-return]

    def workdir(self, run_id: str) -> Path:
        return self.work_dirs / run_id


@pytest.fixture
async def stack(nats_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    home = tmp_path / "home"
    db = f"sqlite+aiosqlite:///{home / 'artifact.db'}"
    artifact = build_artifact(
        ArtifactSettings(home=home, nats_url=nats_url, db_url=db, artifact_port=0)
    )
    await artifact.start()
    sdk = await start_sdk_stack(nats_url, home, keep_failed_workdirs_s=KEEP_S, workdir_sweep_s=0.2)
    yield Stack(sdk, artifact, home, nats_url)
    await stop_sdk_stack(sdk)
    await artifact.stop()


async def _purge_live_copy(nats_url: str, run_id: str) -> None:
    """What the telemetry stream's age limit does to a run's chunks, at once."""
    client = await nats.connect(nats_url)
    js = client.jetstream()
    try:
        await js.purge_stream(TELEMETRY.name, subject=f"log.{run_id}")
        with pytest.raises(NotFoundError):
            await js.get_last_msg(TELEMETRY.name, f"log.{run_id}")
    finally:
        await client.close()


async def test_a_completed_run_leaves_no_work_dir_and_its_log_is_the_archive(
    stack: Stack,
) -> None:
    run_id = await submit(stack.sdk.http, command=["sh", "-c", "echo first; echo second >&2"])
    run = await wait_run(stack.sdk.http, run_id, timeout=30)
    assert run["state"] == "completed", run

    async def gone() -> bool:
        return not stack.workdir(run_id).exists()

    await eventually(gone)
    named = await stack.sdk.http.get(f"/v1/artifacts/names/runs/{run_id}/logs.jsonl")
    assert named.status_code == 200, named.text
    archive = stack.home / "blobs" / "blobs" / "sha256"
    assert (archive / named.json()["sha256"][:2] / named.json()["sha256"]).is_file()
    assert list(stack.work_dirs.rglob("logs.jsonl")) == []
    assert list((stack.home / "executor").rglob("logs.jsonl")) == []

    await _purge_live_copy(stack.nats_url, run_id)
    shown = await boxops(stack.sdk, "runs", "logs", run_id)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == ["first", "second"]


async def test_a_failed_run_keeps_its_work_dir_for_the_set_time_then_it_is_swept(
    stack: Stack,
) -> None:
    run_id = await submit(stack.sdk.http, command=["sh", "-c", "echo why > clue.txt; exit 3"])
    run = await wait_run(stack.sdk.http, run_id, timeout=30)
    assert (run["state"], run["reason"]) == ("failed", "exit code 3")
    attempt = stack.workdir(run_id) / "attempt-1"

    async def marked() -> bool:
        return (attempt / ".ended").exists()

    await eventually(marked)
    ended_at = (attempt / ".ended").stat().st_mtime
    assert (attempt / "work" / "clue.txt").read_text() == "why\n"  # there to debug

    async def gone() -> bool:
        return not stack.workdir(run_id).exists()

    await eventually(gone, timeout=KEEP_S + 10)
    assert time.time() - ended_at >= KEEP_S  # not before its time

    shown = await boxops(stack.sdk, "runs", "logs", run_id)
    assert (shown.returncode, shown.stdout) == (0, ""), shown.stderr
