"""Previews computed from real files of each kind, and the worker that runs them."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from services.artifact.previews.compute import preview
from services.artifact.previews.runner import PreviewRunner


def test_a_csv_shows_its_schema_row_count_and_first_20_rows(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    pd.DataFrame({"x": range(1000), "name": [f"n{i}" for i in range(1000)]}).to_csv(
        path, index=False
    )
    shown = preview(path, "dataframe", "t.csv")
    assert (shown["kind"], shown["format"], shown["rows"]) == ("dataframe", "csv", 1000)
    assert shown["columns"] == [{"name": "x", "type": "int64"}, {"name": "name", "type": "string"}]
    assert len(shown["head"]) == 20 and shown["head"][3] == {"x": 3, "name": "n3"}


def test_a_parquet_file_shows_the_same(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    frame = pd.DataFrame({"when": pd.date_range("2026-01-01", periods=50), "v": [0.5] * 50})
    frame.to_parquet(path)
    shown = preview(path, "dataframe", "t.parquet")
    assert (shown["format"], shown["rows"], shown["column_count"]) == ("parquet", 50, 2)
    assert shown["head"][0] == {"when": "2026-01-01T00:00:00", "v": 0.5}


def test_an_array_shows_shape_dtype_stats_and_first_values(tmp_path: Path) -> None:
    path = tmp_path / "a.npy"
    np.save(path, np.arange(12, dtype=np.float32).reshape(3, 4))
    shown = preview(path, "array", "a.npy")
    assert shown["shape"] == [3, 4] and shown["dtype"] == "float32"
    assert (shown["min"], shown["max"], shown["mean"]) == (0.0, 11.0, 5.5)
    assert shown["first"][:3] == [0.0, 1.0, 2.0]


def test_an_npz_shows_each_array(tmp_path: Path) -> None:
    path = tmp_path / "a.npz"
    np.savez(path, weights=np.ones((2, 2)), labels=np.array([1, 2, 3]))
    shown = preview(path, "array", "a.npz")
    assert shown["format"] == "npz" and set(shown["arrays"]) == {"weights", "labels"}
    assert shown["arrays"]["labels"]["max"] == 3


def test_pickled_arrays_are_not_loaded(tmp_path: Path) -> None:
    path = tmp_path / "o.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="Python objects"):
        preview(path, "array", "o.npy")


def test_json_is_shown_truncated(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"items": list(range(100)), "deep": {"a": {"b": {"c": {"d": 1}}}}}))
    shown = preview(path, "json", "d.json")
    assert shown["truncated"] and shown["value"]["items"] == list(range(20))
    assert shown["value"]["deep"]["a"]["b"]["c"] == "{…}"


def test_visualisations_come_back_typed(tmp_path: Path) -> None:
    matrix = tmp_path / "cm.json"
    matrix.write_text(
        json.dumps({"kind": "confusion_matrix", "labels": ["a", "b"], "matrix": [[5, 1], [0, 4]]})
    )
    curve = tmp_path / "roc.json"
    xs = [i / 5000 for i in range(5001)]
    curve.write_text(json.dumps({"kind": "curve", "x": xs, "y": xs, "auc": 0.5}))
    shown = preview(matrix, "json", None)
    assert (shown["kind"], shown["matrix"]) == ("confusion_matrix", [[5, 1], [0, 4]])
    thin = preview(curve, "json", None)
    assert thin["kind"] == "curve" and thin["points"] == 5001 and len(thin["x"]) <= 1001
    assert thin["x"][-1] == 1.0 and thin["auc"] == 0.5


def test_an_image_shows_its_size_and_a_thumbnail(tmp_path: Path) -> None:
    path = tmp_path / "p.png"
    Image.new("RGB", (640, 480), (255, 0, 0)).save(path)
    shown = preview(path, "image", "p.png")
    assert (shown["width"], shown["height"], shown["format"]) == (640, 480, "PNG")
    assert shown["thumbnail"].startswith("data:image/png;base64,")


async def test_the_worker_reports_bad_files_and_goes_on(tmp_path: Path) -> None:
    runner = PreviewRunner(timeout_s=30, memory_mb=2048)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really")
    good = tmp_path / "g.json"
    good.write_text("[1, 2]")
    try:
        failed = await runner.compute(broken, "dataframe", "broken.parquet")
        assert failed["kind"] == "dataframe" and "error" in failed
        assert (await runner.compute(good, "json", "g.json"))["value"] == [1, 2]
    finally:
        await runner.close()


async def test_a_preview_that_takes_too_long_is_stopped(tmp_path: Path) -> None:
    path = tmp_path / "slow.csv"
    with path.open("w") as out:
        out.write("a,b\n")
        for _ in range(200):
            out.write("1,2\n" * 10_000)
    runner = PreviewRunner(timeout_s=0.05, memory_mb=2048)
    try:
        slow = await runner.compute(path, "dataframe", "slow.csv")
        assert "took longer than 0.05 s" in slow["error"]
        runner.timeout_s = 60
        assert (await runner.compute(path, "dataframe", "slow.csv"))["rows"] == 2_000_000
    finally:
        await runner.close()


async def test_a_batch_of_previews_goes_on_past_one_that_takes_too_long(tmp_path: Path) -> None:
    slow = tmp_path / "slow.csv"
    with slow.open("w") as out:
        out.write("a,b\n")
        for _ in range(1000):  # ~1 s to read
            out.write("1,2\n" * 10_000)
    small = []
    for i in range(3):
        small.append(tmp_path / f"{i}.json")
        small[-1].write_text(f"[{i}]")
    runner = PreviewRunner(timeout_s=60, memory_mb=2048)
    try:
        await runner.compute(small[0], "json", "0.json")  # the worker started and warm
        runner.timeout_s = 0.3
        answers = await runner.compute_many(
            [
                (small[0], "json", "0.json"),
                (slow, "dataframe", "slow.csv"),
                (small[1], "json", "1.json"),
                (small[2], "json", "2.json"),
            ]
        )
    finally:
        await runner.close()
    assert [a.get("value") for a in answers] == [[0], None, [1], [2]]
    assert "took longer than 0.3 s" in answers[1]["error"]
