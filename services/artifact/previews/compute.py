"""Previews of special objects, computed from a local file.

Runs in the preview worker process (worker.py), never in the service: parsers of
user-supplied files get their own memory limit and can be killed when they hang.
The heavy libraries are imported by the function that needs them.
"""

import base64
import io
import json
import math
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from shared.artifacts import ConfusionMatrix, Curve

ROWS = 20
COLUMNS = 100
VALUES = 20
TEXT = 200
JSON_BYTES = 1024**2
JSON_ITEMS = 20
JSON_DEPTH = 4
CURVE_POINTS = 1000
THUMBNAIL = (128, 128)


def preview(path: Path, kind: str, name: str | None = None) -> dict[str, Any]:
    """The preview of one file as a JSON-able dict with its `kind`."""
    return COMPUTE[kind](path, name)


def jsonable(value: Any) -> Any:
    """A value as JSON can hold it: long texts cut, NaN and infinities as null."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value if len(value) <= TEXT else value[:TEXT] + "…"
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value[:TEXT]).decode()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in list(value.items())[:COLUMNS]}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value[:COLUMNS]]
    if hasattr(value, "item"):  # numpy scalars
        return jsonable(value.item())
    return jsonable(str(value))


def dataframe(path: Path, name: str | None) -> dict[str, Any]:
    with path.open("rb") as f:
        parquet = f.read(4) == b"PAR1"
    if parquet:
        return _parquet(path)
    delimiter = "\t" if (name or "").lower().endswith(".tsv") else ","
    return _csv(path, delimiter)


def _table(fmt: str, schema: Any, rows: int, head: Any) -> dict[str, Any]:
    columns = [{"name": f.name, "type": str(f.type)} for f in schema][:COLUMNS]
    records = head.slice(0, ROWS).to_pylist() if head is not None else []
    return {
        "kind": "dataframe",
        "format": fmt,
        "columns": columns,
        "column_count": len(schema),
        "rows": rows,
        "head": [jsonable(record) for record in records],
    }


def _parquet(path: Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    table = pq.ParquetFile(path)
    head = next(table.iter_batches(batch_size=ROWS), None)
    return _table("parquet", table.schema_arrow, table.metadata.num_rows, head)


def _csv(path: Path, delimiter: str) -> dict[str, Any]:
    from pyarrow import csv

    reader = csv.open_csv(path, parse_options=csv.ParseOptions(delimiter=delimiter))
    head, rows = None, 0
    for batch in reader:  # streams: the whole file is counted, never held
        head = head if head is not None else batch
        rows += batch.num_rows
    return _table("csv" if delimiter == "," else "tsv", reader.schema, rows, head)


def array(path: Path, name: str | None) -> dict[str, Any]:
    import numpy as np

    with path.open("rb") as f:
        magic = f.read(6)
    if magic == b"\x93NUMPY":
        return {"kind": "array", **_summary(np.load(path, mmap_mode="r", allow_pickle=False))}
    with np.load(path, allow_pickle=False) as archive:
        names = list(archive.files)
        arrays = {n: _summary(archive[n]) for n in names[:VALUES]}
    return {"kind": "array", "format": "npz", "arrays": arrays, "array_count": len(names)}


def _summary(values: Any) -> dict[str, Any]:
    import numpy as np

    summary: dict[str, Any] = {"shape": list(values.shape), "dtype": str(values.dtype)}
    flat = values.reshape(-1) if values.flags.c_contiguous else values.flat
    summary["first"] = jsonable(np.asarray(flat[:VALUES]).tolist())
    if values.size and np.issubdtype(values.dtype, np.number):
        summary["min"] = jsonable(np.nanmin(values).item())
        summary["max"] = jsonable(np.nanmax(values).item())
        summary["mean"] = jsonable(float(np.nanmean(values, dtype=np.float64)))
    return summary


def json_document(path: Path, name: str | None) -> dict[str, Any]:
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(JSON_BYTES + 1)
    if size > JSON_BYTES:
        text = head[: TEXT * 20].decode("utf-8", errors="replace")
        return {"kind": "json", "truncated": True, "size": size, "text": text}
    value = json.loads(head)
    typed = _visualisation(value)
    if typed is not None:
        return typed
    shown, cut = _truncated(value, JSON_DEPTH)
    return {"kind": "json", "truncated": cut, "size": size, "value": shown}


def _visualisation(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict) or value.get("kind") not in ("confusion_matrix", "curve"):
        return None
    model = ConfusionMatrix if value["kind"] == "confusion_matrix" else Curve
    try:
        typed = model.model_validate(value).model_dump()
    except ValidationError as err:
        return {"kind": value["kind"], "error": f"not a valid {value['kind']}: {err}"}
    if isinstance(typed.get("x"), list) and len(typed["x"]) > CURVE_POINTS:
        step = -(-len(typed["x"]) // CURVE_POINTS)  # thinned for drawing, ends kept
        typed["points"] = len(typed["x"])
        typed["x"], typed["y"] = (
            typed["x"][::step] + typed["x"][-1:],
            typed["y"][::step] + typed["y"][-1:],
        )
    return typed


def _truncated(value: Any, depth: int) -> tuple[Any, bool]:
    if isinstance(value, dict):
        if depth == 0:
            return "{…}", True
        items = list(value.items())
        pairs = [(str(k), _truncated(v, depth - 1)) for k, v in items[:JSON_ITEMS]]
        return {k: v for k, (v, _) in pairs}, len(items) > JSON_ITEMS or any(
            c for _, (_, c) in pairs
        )
    if isinstance(value, list):
        if depth == 0:
            return "[…]", True
        shown = [_truncated(v, depth - 1) for v in value[:JSON_ITEMS]]
        return [v for v, _ in shown], len(value) > JSON_ITEMS or any(c for _, c in shown)
    if isinstance(value, str) and len(value) > TEXT:
        return value[:TEXT] + "…", True
    return jsonable(value), False


def image(path: Path, name: str | None) -> dict[str, Any]:
    from PIL import Image

    with Image.open(path) as img:  # refuses decompression bombs (PIL's pixel limit)
        width, height, mode, fmt = img.width, img.height, img.mode, img.format
        img.thumbnail(THUMBNAIL)
        thumbnail = img.convert("RGBA" if "A" in img.mode else "RGB")
    out = io.BytesIO()
    thumbnail.save(out, format="PNG")
    data = base64.b64encode(out.getvalue()).decode()
    return {
        "kind": "image",
        "format": fmt,
        "width": width,
        "height": height,
        "mode": mode,
        "thumbnail": f"data:image/png;base64,{data}",
    }


COMPUTE: dict[str, Callable[[Path, str | None], dict[str, Any]]] = {
    "dataframe": dataframe,
    "array": array,
    "json": json_document,
    "image": image,
}
