"""Special objects as files the artifact service previews: Parquet tables, .npy arrays,
JSON, and typed JSON for visualisations (confusion matrices, curves)."""

import itertools
import json
import math
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

PREVIEW_ROWS = 10

PARQUET = "application/vnd.apache.parquet"
NPY = "application/x-npy"
JSON = "application/json"
CONFUSION_MATRIX = "application/vnd.boxops.confusion-matrix+json"
CURVE = "application/vnd.boxops.curve+json"


def dataframe(frame: Any, path: Path) -> dict[str, Any]:
    """Write a pandas DataFrame as Parquet; its shape, schema and first rows as metadata."""
    frame.to_parquet(path, index=False)
    preview = json.loads(frame.head(PREVIEW_ROWS).to_json(orient="split", index=False))
    return {
        "rows": len(frame),
        "columns": [{"name": str(c), "dtype": str(t)} for c, t in frame.dtypes.items()],
        "preview": {"columns": preview["columns"], "data": preview["data"]},
    }


def array(values: Any, path: Path) -> dict[str, Any]:
    import numpy

    data = numpy.asarray(values)
    with path.open("wb") as out:
        numpy.save(out, data, allow_pickle=False)
    return {"shape": list(data.shape), "dtype": str(data.dtype)}


def json_file(document: Any, path: Path) -> dict[str, Any]:
    path.write_text(json.dumps(document, default=_plain, allow_nan=False))
    return {}


def confusion_matrix(
    y_true: Iterable[Any], y_pred: Iterable[Any], labels: Sequence[Any] | None, title: str
) -> dict[str, Any]:
    """matrix[actual][predicted] counts, as the artifact service's ConfusionMatrix."""
    truth, predicted = [_plain(y) for y in y_true], [_plain(y) for y in y_pred]
    if len(truth) != len(predicted):
        raise ValueError(f"y_true has {len(truth)} values, y_pred {len(predicted)}")
    names = (
        [_plain(x) for x in labels] if labels is not None else sorted({*truth, *predicted}, key=str)
    )
    index = {label: i for i, label in enumerate(names)}
    matrix = [[0] * len(names) for _ in names]
    for t, p in zip(truth, predicted, strict=True):
        if t in index and p in index:
            matrix[index[t]][index[p]] += 1
    return {
        "kind": "confusion_matrix",
        "title": title,
        "labels": [str(x) for x in names],
        "matrix": matrix,
    }


def curve(
    title: str, x: Iterable[Any], y: Iterable[Any], x_label: str, y_label: str, area: bool
) -> dict[str, Any]:
    """Matching x and y series, as the artifact service's Curve (with the AUC if asked)."""
    xs, ys = [float(v) for v in x], [float(v) for v in y]
    if len(xs) != len(ys):
        raise ValueError(f"x has {len(xs)} values, y {len(ys)}")
    if not all(math.isfinite(v) for v in [*xs, *ys]):
        raise ValueError("a curve's values must be finite numbers")
    found: dict[str, Any] = {
        "kind": "curve",
        "title": title,
        "x_label": x_label,
        "y_label": y_label,
        "x": xs,
        "y": ys,
    }
    if area and len(xs) > 1:
        pairs = sorted(zip(xs, ys, strict=True))
        found["auc"] = sum(
            (x1 - x0) * (y0 + y1) / 2 for (x0, y0), (x1, y1) in itertools.pairwise(pairs)
        )
    return found


def copy(source: Path, dest: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, dest, dirs_exist_ok=True)
    else:
        shutil.copyfile(source, dest)


def _plain(value: Any) -> Any:
    """numpy scalars and the like as plain Python values."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value
