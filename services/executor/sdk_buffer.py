"""The SDK's buffer in a run's sdk/ dir, read by the executor when the run ends.

    records.jsonl    {"kind": "param"|"tag", "name": …, "value": …}   always written here
    metrics.jsonl    {"id", "name", "value", "step", "at"}            points it could not send
                     (`at` in seconds since the epoch)
    artifacts.jsonl  {"name", "kind", "path", "media_type", "metadata"} files under artifacts/

The black box wrote these files, so nothing in them is trusted: bad lines are skipped and
artifact files are read only if they are regular files inside artifacts/.
"""

import asyncio
import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.executor import outputs
from services.executor.inputs import BlobStore
from services.executor.outputs import OutputRefused
from services.executor.recorder import Recorder
from shared.bus import now
from shared.events import RunArtifact

BATCH = 5000


async def replay(sdk: Path, recorder: Recorder) -> None:
    """Params, tags and undelivered metric points of the buffer, into the recorder."""
    for record in await asyncio.to_thread(lambda: list(records(sdk / "records.jsonl"))):
        name, value = str(record.get("name", "")), record.get("value")
        if not name or value is None:
            continue
        if record.get("kind") == "param":
            recorder.params[name] = value
        elif record.get("kind") == "tag":
            recorder.tags[name] = str(value)
    points = records(sdk / "metrics.jsonl")
    while batch := await asyncio.to_thread(_take, points, BATCH):
        for point in batch:
            _replay_point(recorder, point)
        await recorder.flush_or_keep()


def _replay_point(recorder: Recorder, point: dict[str, Any]) -> None:
    value, step = point.get("value"), point.get("step")
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return
    if step is not None and not isinstance(step, int):
        return
    name = point.get("name")
    if not isinstance(name, str) or not name:
        return
    event_id = point.get("id") if isinstance(point.get("id"), str) else None
    recorder.metric(name, float(value), step, _time(point.get("at")), id=event_id)


async def upload_artifacts(sdk: Path, blobs: BlobStore) -> list[RunArtifact]:
    try:
        files = dict((await asyncio.to_thread(outputs.collect, sdk, "artifacts")).files)
    except OutputRefused:
        return []  # tampered with: none of it is trusted
    found = []
    for record in await asyncio.to_thread(lambda: list(records(sdk / "artifacts.jsonl"))):
        path = files.get(str(record.get("path", "")))
        if path is None:
            continue
        media_type = str(record.get("media_type") or "application/octet-stream")
        stored = await blobs.put(path, str(record["path"]), media_type)
        found.append(
            RunArtifact(
                name=str(record.get("name") or record["path"]),
                kind=str(record.get("kind") or "file"),
                path=str(record["path"]),
                size=stored.size,
                sha256=stored.sha256,
                media_type=media_type,
                metadata=record.get("metadata") if isinstance(record.get("metadata"), dict) else {},
            )
        )
    return found + await _buffer(sdk, blobs)


async def _buffer(sdk: Path, blobs: BlobStore) -> list[RunArtifact]:
    """The points the SDK could not send, kept as they were written."""
    try:
        files = dict((await asyncio.to_thread(outputs.collect, sdk.parent, sdk.name)).files)
    except OutputRefused:
        return []
    path = files.get("metrics.jsonl")
    if path is None:
        return []
    stored = await blobs.put(path, "metrics.jsonl", "application/x-ndjson")
    return [
        RunArtifact(
            name="sdk-metrics-buffer",
            kind="sdk_buffer",
            path="metrics.jsonl",
            size=stored.size,
            sha256=stored.sha256,
            media_type="application/x-ndjson",
        )
    ]


def records(path: Path) -> Iterator[dict[str, Any]]:
    try:
        file = path.open(encoding="utf-8", errors="replace")
    except OSError:
        return
    with file:
        for line in file:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # cut short when the run was killed mid-write
            if isinstance(record, dict):
                yield record


def _take(records: Iterator[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    batch = []
    for record in records:
        batch.append(record)
        if len(batch) >= n:
            break
    return batch


def _time(value: Any) -> datetime:
    """Seconds since the epoch (what the SDK writes) or ISO 8601; the replay time if neither."""
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        at = datetime.fromisoformat(str(value))
    except (ValueError, OverflowError, OSError):
        return now()
    return at if at.tzinfo else at.replace(tzinfo=UTC)
