"""What the artifact previews show: a run's files, and each file's preview document (made
by the artifact service) as a view a template draws. Pure: no I/O."""

import json
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from shared.queries import RunView

FILES = 200  # a run's files listed on its page; the rest are counted
INLINE = 10  # previews made with the page; the others open on demand
CLASSES = 50  # a confusion matrix's classes drawn
SHADES = 5  # heatmap shades, besides the blank one for 0
# Image formats (as Pillow names them) served as they are; others show their thumbnail.
SERVED = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
THUMBNAIL = "data:image/png;base64,"


@dataclass(frozen=True)
class File:
    name: str
    sha256: str
    size: int | None  # None: not known yet
    origin: str = ""  # "Logged with the SDK" or "Output <name>"

    @property
    def size_text(self) -> str:
        return "" if self.size is None else size(self.size)

    @property
    def download(self) -> str:
        return f"/blobs/{self.sha256}?" + urlencode({"name": self.name})

    @property
    def preview(self) -> str:
        return f"/preview/{self.sha256}?" + urlencode({"name": self.name})


@dataclass(frozen=True)
class Node:
    """A JSON value in a tree: a leaf's text, or a branch's summary and children."""

    key: str
    type: str  # object, array, string, number, boolean, null
    text: str
    children: tuple["Node", ...] = ()


@dataclass(frozen=True)
class Cell:
    text: str
    shade: int
    title: str
    hit: bool = False  # on the diagonal: predicted as it was


@dataclass(frozen=True)
class Listing:
    groups: list[tuple[str, list[File]]]  # (origin, its files), in the run's order
    more: int = 0  # files not listed
    inline: frozenset[str] = frozenset()  # sha256 of those previewed with the page


def run_files(run: RunView) -> list[File]:
    """A run's logged artifacts, then its outputs' files."""
    logged = [File(a.name, a.sha256, a.size, "Logged with the SDK") for a in run.artifacts]
    produced = [
        File(f.path, f.sha256, f.size, f"Output {name}")
        for name, output in run.outputs.items()
        for f in output.files
    ]
    return logged + produced


def listing(files: list[File]) -> Listing:
    shown = files[:FILES]
    groups: dict[str, list[File]] = {}
    for file in shown:
        groups.setdefault(file.origin, []).append(file)
    inline = frozenset(f.sha256 for f in shown[:INLINE])
    return Listing(list(groups.items()), len(files) - len(shown), inline)


def size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    value, units = n / 1024, ["KiB", "MiB", "GiB"]
    while value >= 1024 and len(units) > 1:
        value, units = value / 1024, units[1:]
    return f"{value:.1f} {units[0]}"


def number(value: Any) -> str:
    """A number as people read it: integers whole, others to 4 significant digits."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:.4g}"


def disposition(name: str) -> str:
    """Content-Disposition of a download: its file name, any character safely encoded."""
    base = name.rsplit("/", 1)[-1] or "download"
    return f"attachment; filename*=UTF-8''{quote(base, safe='')}"


def view(sha256: str, status: str, document: dict[str, Any] | None) -> dict[str, Any]:
    """A preview as its template draws it; `kind` names the template."""
    if status == "pending":
        return {"kind": "pending"}
    if document is None or status == "none":
        return {"kind": "none"}
    if status == "failed" or "error" in document:
        return {"kind": "failed", "error": str(document.get("error", "unknown error"))}
    kind = document.get("kind")
    made = KINDS.get(str(kind))
    return made(sha256, document) if made else {"kind": "none"}


def table(_: str, doc: dict[str, Any]) -> dict[str, Any]:
    columns = [(str(c["name"]), str(c["type"])) for c in doc.get("columns", [])]
    head = [[cell(record.get(name)) for name, _ in columns] for record in doc.get("head", [])]
    count = int(doc.get("column_count", len(columns)))
    return {
        "kind": "dataframe",
        "format": doc.get("format", ""),
        "columns": columns,
        "hidden_columns": count - len(columns),
        "rows": number(doc.get("rows")),
        "head": head,
    }


def cell(value: Any) -> str:
    if isinstance(value, float):
        return number(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def arrays(_: str, doc: dict[str, Any]) -> dict[str, Any]:
    if "arrays" in doc:  # an .npz: several named arrays
        found = [(name, summary(s)) for name, s in doc["arrays"].items()]
        return {"kind": "array", "arrays": found, "more": doc.get("array_count", 0) - len(found)}
    return {"kind": "array", "arrays": [("", summary(doc))], "more": 0}


def summary(doc: dict[str, Any]) -> dict[str, Any]:
    shape = [int(n) for n in doc.get("shape", [])]
    stats = [(name, number(doc[name])) for name in ("min", "max", "mean") if name in doc]
    return {
        "shape": " \u00d7 ".join(str(n) for n in shape) if shape else "scalar",
        "size": number(math.prod(shape)),
        "dtype": doc.get("dtype", ""),
        "stats": stats,
        "first": ", ".join(cell(v) for v in doc.get("first", [])),
    }


def json_view(_: str, doc: dict[str, Any]) -> dict[str, Any]:
    if "value" not in doc:  # too big to parse: its start as text
        return {"kind": "json", "tree": None, "text": doc.get("text", ""), "size": doc.get("size")}
    return {"kind": "json", "tree": tree(doc["value"]), "cut": bool(doc.get("truncated"))}


def tree(value: Any, key: str = "") -> Node:
    """A JSON value as a tree of nodes, each branch summarised by how much it holds."""
    if isinstance(value, dict):
        children = tuple(tree(v, str(k)) for k, v in value.items())
        return Node(key, "object", _count(len(children), "key", "{}"), children)
    if isinstance(value, list):
        children = tuple(tree(v, str(i)) for i, v in enumerate(value))
        return Node(key, "array", _count(len(children), "item", "[]"), children)
    if value is None:
        return Node(key, "null", "null")
    if isinstance(value, bool):
        return Node(key, "boolean", json.dumps(value))
    if isinstance(value, int | float):
        return Node(key, "number", json.dumps(value))
    return Node(key, "string", json.dumps(str(value), ensure_ascii=False))


def _count(n: int, what: str, empty: str) -> str:
    if not n:
        return empty
    return f"{n} {what}" + ("" if n == 1 else "s")


def image(sha256: str, doc: dict[str, Any]) -> dict[str, Any]:
    fmt = str(doc.get("format") or "")
    thumbnail = str(doc.get("thumbnail") or "")
    src = f"/blobs/{sha256}/image" if fmt in SERVED else None
    if src is None and thumbnail.startswith(THUMBNAIL):
        src = thumbnail  # a format browsers do not show (TIFF…): its PNG thumbnail
    return {
        "kind": "image",
        "format": fmt,
        "width": doc.get("width"),
        "height": doc.get("height"),
        "mode": doc.get("mode", ""),
        "src": src,
    }


def heatmap(_: str, doc: dict[str, Any]) -> dict[str, Any]:
    """A confusion matrix (matrix[actual][predicted]) as rows of cells, each shaded by its
    share of the actual class's count and showing the count itself."""
    labels = [str(label) for label in doc["labels"]][:CLASSES]
    matrix = [row[:CLASSES] for row in doc["matrix"][:CLASSES]]
    rows = []
    for i, (actual, counts) in enumerate(zip(labels, matrix, strict=True)):
        total = sum(counts)
        cells = [
            heat_cell(value, total, actual, predicted, hit=i == j)
            for j, (predicted, value) in enumerate(zip(labels, counts, strict=True))
        ]
        rows.append((actual, cells, number(total)))
    everything = sum(sum(row) for row in doc["matrix"])
    right = sum(doc["matrix"][i][i] for i in range(len(doc["matrix"])))
    return {
        "kind": "confusion_matrix",
        "title": doc.get("title", ""),
        "labels": labels,
        "rows": rows,
        "hidden": len(doc["labels"]) - len(labels),
        "accuracy": f"{right / everything:.1%}" if everything else "—",
    }


def heat_cell(value: float, total: float, actual: str, predicted: str, *, hit: bool) -> Cell:
    share = value / total if total else 0.0
    shade = 0 if value <= 0 else max(1, math.ceil(share * SHADES))
    title = f"actual {actual}, predicted {predicted}: {number(value)} ({share:.0%} of {actual})"
    return Cell(number(value), min(shade, SHADES), title, hit)


def curve(_: str, doc: dict[str, Any]) -> dict[str, Any]:
    """A curve for drawChart; the AUC as text. uPlot aligns series by x, merging equal x
    values: a ROC or PR curve's vertical steps keep their points by x spread apart by a
    fraction (1e-9) of the x range, which no zoom shows."""
    xs, ys = stepped([float(x) for x in doc["x"]], [float(y) for y in doc["y"]])
    title = str(doc.get("title") or "")
    x_label, y_label = str(doc.get("x_label", "x")), str(doc.get("y_label", "y"))
    auc = doc.get("auc")
    spec = {
        "series": [{"label": title or y_label, "x": xs, "y": ys}],
        "xLabel": x_label,
        "yLabel": y_label,
        "height": 260,
    }
    return {
        "kind": "curve",
        "title": title,
        "auc": None if auc is None else f"{float(auc):.3f}",
        "points": number(doc.get("points", len(xs))),
        "spec": spec,
    }


def stepped(xs: list[float], ys: list[float]) -> tuple[list[float], list[float]]:
    """Points sorted by x (then y), equal x values made strictly increasing."""
    points = sorted(zip(xs, ys, strict=True))
    if not points:
        return [], []
    nudge = max(points[-1][0] - points[0][0], 1.0) * 1e-9
    out_x: list[float] = []
    for x, _ in points:
        out_x.append(x if not out_x or x > out_x[-1] else out_x[-1] + nudge)
    return out_x, [y for _, y in points]


KINDS = {
    "dataframe": table,
    "array": arrays,
    "json": json_view,
    "image": image,
    "confusion_matrix": heatmap,
    "curve": curve,
}
