"""The boxops SDK for code inside a black box (optional: a black box needs no import).

    import boxops
    boxops.log_metric("acc", 0.93, step=3)
    boxops.log_params({"lr": 0.01})
    boxops.log_dataframe("predictions", frame)
    data = boxops.inputs("train")       # a Path under $BOXOPS_INPUTS
    model_dir = boxops.outputs("model")  # write here; it becomes the model version

It never stops the black box: when boxops cannot be reached, what it logs is buffered
in the run's dir and recorded when the run ends. Outside a run (plain `python train.py`)
it writes the same records to ./boxops-local/<time>-<pid>/.
"""

import math
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from boxops.sdk import objects
from boxops.sdk.session import Session
from boxops.sdk_names import SDK

__all__ = sorted(SDK)  # one list of the SDK's names, in boxops/sdk_names.py

_session: Session | None = None
_lock = threading.Lock()
SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _current() -> Session:
    global _session
    if _session is None:
        with _lock:
            if _session is None:
                _session = Session(dict(os.environ))
    return _session


def _forget_in_child() -> None:
    global _session
    _session = None  # a forked child starts its own session (the thread did not come along)


os.register_at_fork(after_in_child=_forget_in_child)


def _warn(what: str, err: BaseException) -> None:
    print(f"boxops: {what} not recorded: {type(err).__name__}: {err}", file=sys.stderr)


def run_id() -> str | None:
    """The id of the run this code runs in, or None outside a run."""
    return _current().run_id or None


def log_metric(name: str, value: float, step: int | None = None) -> None:
    """Record one point of a metric series (batched; never blocks on the network)."""
    try:
        number = float(value)
        if not math.isfinite(number):
            raise ValueError("metric values must be finite")
        _current().metric(str(name), number, None if step is None else int(step))
    except (TypeError, ValueError) as err:
        _warn(f"metric {name!r}", err)


def log_metrics(metrics: Mapping[str, float], step: int | None = None) -> None:
    for name, value in metrics.items():
        log_metric(name, value, step)


def log_param(name: str, value: Any) -> None:
    log_params({name: value})


def log_params(params: Mapping[str, Any]) -> None:
    records = [{"kind": "param", "name": str(k), "value": v} for k, v in params.items()]
    _record("params", lambda: _current().append("records.jsonl", records))


def set_tag(name: str, value: str) -> None:
    record = {"kind": "tag", "name": str(name), "value": str(value)}
    _record("tag", lambda: _current().append("records.jsonl", [record]))


def log_artifact(path: str | os.PathLike[str], name: str | None = None) -> None:
    """Keep a file (or a directory) with the run; uploaded when the run ends."""
    source = Path(path)

    def write(dest: Path) -> dict[str, Any]:
        objects.copy(source, dest)
        return {}

    _artifact(name or source.name, "file", "", "application/octet-stream", write)


def log_dataframe(name: str, frame: Any) -> None:
    """A pandas DataFrame, stored as Parquet with its schema and first rows as preview."""
    _artifact(name, "dataframe", ".parquet", objects.PARQUET, lambda p: objects.dataframe(frame, p))


def log_array(name: str, values: Any) -> None:
    """A numpy array (or anything numpy.asarray takes), stored as .npy."""
    _artifact(name, "array", ".npy", objects.NPY, lambda p: objects.array(values, p))


def log_json(name: str, document: Any) -> None:
    _artifact(name, "json", ".json", objects.JSON, lambda p: objects.json_file(document, p))


def log_confusion_matrix(
    y_true: Iterable[Any],
    y_pred: Iterable[Any],
    labels: Sequence[Any] | None = None,
    name: str = "confusion_matrix",
) -> None:
    """Counts of (true, predicted) label pairs, kept as typed JSON for the UI."""
    _typed(
        name,
        "confusion_matrix",
        objects.CONFUSION_MATRIX,
        lambda: objects.confusion_matrix(y_true, y_pred, labels, name),
    )


def log_curve(
    name: str,
    x: Iterable[float],
    y: Iterable[float],
    x_label: str = "x",
    y_label: str = "y",
    auc: bool | None = None,
) -> None:
    """A curve such as ROC, precision-recall or loss; `auc` (default: for ROC and PR names)
    adds the area under it."""
    if auc is None:
        auc = any(k in name.lower() for k in ("roc", "pr"))
    _typed(
        name,
        "curve",
        objects.CURVE,
        lambda: objects.curve(name, x, y, x_label, y_label, bool(auc)),
    )


def inputs(name: str) -> Path:
    """Where input `name` is: $BOXOPS_INPUTS/<name> (./inputs/<name> outside a run)."""
    return Path(os.environ.get("BOXOPS_INPUTS", "inputs")) / name


def outputs(name: str) -> Path:
    """Where to write output `name`: $BOXOPS_OUTPUTS/<name>, created if needed."""
    root = os.environ.get("BOXOPS_OUTPUTS") or str(_current().folder() / "outputs")
    path = Path(root) / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_artifact(
    name: str, kind: str, suffix: str, media_type: str, write: Callable[[Path], dict[str, Any]]
) -> None:
    """For boxops' integrations (autolog): an artifact that `write` puts at the path it is
    given, returning the file's metadata; its errors are the caller's to report. Not a
    `boxops.<name>`: users have log_artifact."""
    session = _current()
    folder = session.folder() / "artifacts"
    folder.mkdir(exist_ok=True)
    file_name = SAFE.sub("_", name).strip("._") or kind
    if suffix and not file_name.endswith(suffix):
        file_name += suffix
    metadata = write(folder / file_name)
    paths = _files(folder, file_name)
    session.append(
        "artifacts.jsonl",
        [
            {
                "name": name if len(paths) == 1 else f"{name}/{p}",
                "kind": kind,
                "path": p,
                "media_type": media_type,
                "metadata": metadata,
            }
            for p in paths
        ],
    )


def flush() -> None:
    """Send what is pending now (it is also sent in the background and at exit)."""
    _record("flush", lambda: _current().flush())


def _record(what: str, write: Any) -> None:
    try:
        write()
    except (OSError, TypeError, ValueError) as err:
        _warn(what, err)


def _typed(name: str, kind: str, media_type: str, build: Any) -> None:
    _artifact(name, kind, ".json", media_type, lambda p: objects.json_file(build(), p))


def _artifact(name: str, kind: str, suffix: str, media_type: str, write: Any) -> None:
    try:
        write_artifact(name, kind, suffix, media_type, write)
    except Exception as err:  # an SDK call must never end the black box
        _warn(f"artifact {name!r}", err)


def _files(folder: Path, file_name: str) -> list[str]:
    path = folder / file_name
    if not path.is_dir():
        return [file_name]
    return sorted(p.relative_to(folder).as_posix() for p in path.rglob("*") if p.is_file())
