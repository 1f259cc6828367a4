"""Inputs downloaded from and outputs, logs and SDK artifacts uploaded to the real artifact
service, on the local and the Docker backend."""

import hashlib
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pandas
import pytest

from shared.artifacts import ConfusionMatrix, Curve, run_logs_key
from shared.events import FileEntry, InputRef
from tests.integration.executor_blobs import TOKEN, BlobStack, blob_stack_fixture  # noqa: F401
from tests.integration.executor_harness import Harness, need_docker, start_harness


@pytest.fixture(name="executor", params=["local", "docker"])
async def executor_with_store(
    request: pytest.FixtureRequest, nats_url: str, tmp_path: Path, blob_stack: BlobStack
) -> AsyncIterator[Harness]:
    if request.param == "docker":
        need_docker()
    harness = await start_harness(
        request.param, nats_url, tmp_path / "home", gateway_url=blob_stack.url, api_token=TOKEN
    )
    yield harness
    await harness.service.stop()
    await harness.client.close()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def test_outputs_are_uploaded_and_listed_in_the_end_report(
    executor: Harness, blob_stack: BlobStack, tmp_path: Path
) -> None:
    script = (
        'mkdir -p "$BOXOPS_OUTPUTS/model/sub";'
        'printf weights > "$BOXOPS_OUTPUTS/model/weights.bin";'
        'printf "{}" > "$BOXOPS_OUTPUTS/model/sub/config.json";'
        'echo \'{"acc": 0.9, "note": "x"}\' > "$BOXOPS_OUTPUTS/scores/metrics.json";'
        "echo '::metric name=loss value=0.1 step=1'; echo trained"
    )
    run_id = await executor.dispatch(
        ["sh", "-c", script], outputs={"model": "model", "scores": "metrics"}
    )
    ended = await executor.ended(run_id)

    assert (ended.exit_code, ended.reason) == (0, "exit code 0"), ended
    model = ended.outputs["model"]
    assert (model.type, model.name) == ("model", "model-of-test")
    assert model.files == [
        FileEntry(path="sub/config.json", size=2, sha256=sha(b"{}")),
        FileEntry(path="weights.bin", size=7, sha256=sha(b"weights")),
    ]
    assert ended.outputs["scores"].metrics == {"loss": 0.1, "acc": 0.9}
    fetched = await blob_stack.artifacts.get(sha(b"weights"), tmp_path / "w")
    assert fetched.read_bytes() == b"weights"

    assert ended.logs is not None
    named = await blob_stack.artifacts.name(run_logs_key(run_id))
    assert named.sha256 == ended.logs.sha256
    archive = await blob_stack.artifacts.get(ended.logs.sha256, tmp_path / "logs.jsonl")
    lines = [json.loads(x) for x in archive.read_text().splitlines()]
    assert [x["line"] for x in lines][-1] == "trained"
    assert {"t", "stream", "line"} <= set(lines[0])


async def test_managed_inputs_are_downloaded_once_and_read_only(
    executor: Harness, blob_stack: BlobStack, tmp_path: Path
) -> None:
    data = tmp_path / "train.csv"
    data.write_bytes(b"x,y\n1,2\n")
    stored = await blob_stack.artifacts.put_file(data)
    entry = FileEntry(path="part/train.csv", size=stored.size, sha256=stored.sha256)
    train = InputRef(type="dataset", name="iris", version=3, files=[entry])
    # A container cannot write it; a local run may write its own copy, never the cache.
    path = '"$BOXOPS_INPUTS/train/part/train.csv"'
    script = f"cat {path}; {{ echo hack >> {path}; }} 2>/dev/null; echo done"

    first = await executor.dispatch(["sh", "-c", script], inputs={"train": train})
    second = await executor.dispatch(["sh", "-c", script], inputs={"train": train})
    for run_id in (first, second):
        ended = await executor.ended(run_id)
        assert ended.exit_code == 0, ended
        assert executor.output(run_id) == ["x,y", "1,2", "done"]
    cached = executor.home / "executor" / "cache" / stored.sha256
    assert cached.read_bytes() == b"x,y\n1,2\n"


async def test_an_input_that_cannot_be_fetched_fails_the_run_with_the_reason(
    executor: Harness,
) -> None:
    missing = FileEntry(path="gone.bin", size=3, sha256="0" * 64)
    ref = InputRef(type="model", name="m", version=1, files=[missing])
    run_id = await executor.dispatch(["sh", "-c", "echo never"], inputs={"model": ref})
    ended = await executor.ended(run_id)

    assert ended.exit_code is None
    assert ended.reason.startswith("input 'model': cannot fetch gone.bin")
    assert executor.output(run_id) == []


SDK_OBJECTS = """
import boxops, numpy, pandas
frame = pandas.DataFrame({"x": [1, 2, 3], "label": ["a", "b", "a"]})
boxops.log_dataframe("predictions", frame)
boxops.log_array("embeddings", numpy.arange(6, dtype="float32").reshape(2, 3))
boxops.log_json("config", {"layers": [64, 32]})
boxops.log_confusion_matrix(["cat", "dog", "dog"], ["cat", "dog", "cat"], labels=["cat", "dog"])
boxops.log_curve("roc", [0.0, 0.5, 1.0], [0.0, 0.8, 1.0], x_label="FPR", y_label="TPR")
open("notes.txt", "w").write("hello")
boxops.log_artifact("notes.txt")
boxops.log_artifact("/etc/hostname", name="../../escape")
"""


async def test_sdk_objects_are_uploaded_with_their_kinds(
    nats_url: str, tmp_path: Path, blob_stack: BlobStack
) -> None:
    harness = await start_harness(
        "local", nats_url, tmp_path / "home", gateway_url=blob_stack.url, api_token=TOKEN
    )
    try:
        run_id = await harness.dispatch([sys.executable, "-c", SDK_OBJECTS])
        ended = await harness.ended(run_id)
    finally:
        await harness.service.stop()
        await harness.client.close()

    assert ended.exit_code == 0, ended
    found = {a.name: a for a in ended.artifacts}
    assert {k: a.kind for k, a in found.items()} == {
        "predictions": "dataframe",
        "embeddings": "array",
        "config": "json",
        "confusion_matrix": "confusion_matrix",
        "roc": "curve",
        "notes.txt": "file",
        "../../escape": "file",
    }
    assert found["../../escape"].path == "escape"  # kept inside the run's artifacts
    assert found["predictions"].metadata["rows"] == 3
    assert found["embeddings"].metadata == {"shape": [2, 3], "dtype": "float32"}
    matrix = await blob_stack.artifacts.get(found["confusion_matrix"].sha256, tmp_path / "m")
    assert ConfusionMatrix.model_validate_json(matrix.read_bytes()).matrix == [[1, 0], [1, 1]]
    curve = await blob_stack.artifacts.get(found["roc"].sha256, tmp_path / "c")
    assert Curve.model_validate_json(curve.read_bytes()).auc == pytest.approx(0.65)
    table = await blob_stack.artifacts.get(found["predictions"].sha256, tmp_path / "p.parquet")
    assert pandas.read_parquet(table)["label"].tolist() == ["a", "b", "a"]
