"""What the dataset and model pages show, made from the registry's views. Pure: no I/O."""

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote, urlencode

from shared.events import DatasetChanges
from shared.registry_api import DatasetVersionView
from shared.storable import INT64_MAX, storable_text

# Files the preview route can show as a table.
TABULAR = frozenset({".csv", ".tsv", ".parquet", ".jsonl", ".feather", ".arrow"})
UNITS = ("B", "kB", "MB", "GB", "TB")


def size(count: int | None) -> str:
    """Bytes as a person reads them: 12.3 kB (decimal units, as `ls -h --si`)."""
    if count is None:
        return ""
    value, unit = float(abs(count)), 0
    while value >= 1000 and unit < len(UNITS) - 1:
        value, unit = value / 1000, unit + 1
    sign = "-" if count < 0 else ""
    return f"{sign}{value:.0f} {UNITS[unit]}" if unit == 0 else f"{sign}{value:.1f} {UNITS[unit]}"


def short(sha256: str) -> str:
    return sha256.removeprefix("sha256:")[:12]


def signed(delta: int, text: str) -> str:
    return f"+{text}" if delta > 0 else (text if delta < 0 else "±0")


def change_summary(changes: DatasetChanges | None, *, first: bool) -> str:
    """One line: which files a version added, removed or changed, its size and row deltas."""
    if changes is None:
        return "first version" if first else "changes not known"
    counts = [
        (changes.files_added, "added"),
        (changes.files_removed, "removed"),
        (changes.files_modified, "changed"),
    ]
    parts = [f"{n} {word}" for n, word in counts if n]
    if not parts:
        parts = ["no file changed"]
    if changes.bytes_delta is not None:
        parts.append(signed(changes.bytes_delta, size(changes.bytes_delta)))
    if changes.rows_delta is not None:
        parts.append(f"{signed(changes.rows_delta, str(changes.rows_delta))} rows")
    return ", ".join(parts)


def changed_paths(changes: DatasetChanges | None) -> list[tuple[str, str]]:
    """(how, path) for each file named in the changes: added, removed, changed."""
    if changes is None:
        return []
    return (
        [("added", p) for p in changes.added]
        + [("removed", p) for p in changes.removed]
        + [("changed", p) for p in changes.modified]
    )


def pin_state(version: DatasetVersionView) -> str:
    """An external version's pin: pinning, pinned, or failed with the reason; "" if managed."""
    if version.managed:
        return ""
    if version.state == "failed":
        return f"failed: {version.state_reason or 'no reason given'}"
    return version.state


def version_row(version: DatasetVersionView) -> dict[str, Any]:
    return {
        "version": version.version,
        "created": version.created_at,
        "kind": "managed" if version.managed else "external",
        "files": version.file_count if version.managed else "",
        "changes": change_summary(version.changes, first=version.previous_version is None),
        "pin": pin_state(version),
        "uri": version.uri or "",
        "source": version.source,
        "run_id": version.run_id,
    }


def tabular(path: str) -> bool:
    return PurePosixPath(path).suffix.lower() in TABULAR


def preview_url(sha256: str, path: str) -> str:
    return f"/preview/{quote(sha256)}?name={quote(PurePosixPath(path).name)}"


def parent_link(ref: str) -> tuple[str, str]:
    """(label, page) of a version's parent as the registry names it: `iris@2` for a dataset
    version, `model:clf@2` for a model version."""
    kind, _, rest = ref.rpartition(":") if ref.startswith("model:") else ("dataset", "", ref)
    name, _, version = rest.rpartition("@")
    if not name:
        name, version = rest, "latest"
    area = "models" if kind == "model" else "datasets"
    return ref, f"/{area}/{quote(name)}/versions/{quote(version)}"


def aliases(by_alias: Mapping[str, int]) -> list[tuple[str, int]]:
    """(alias, version) in alias order."""
    return sorted(by_alias.items())


def metrics(values: Mapping[str, float]) -> list[tuple[str, str]]:
    return [(name, f"{value:.4g}") for name, value in sorted(values.items())]


def offset_of(text: str) -> tuple[int, str | None]:
    """The offset a list page's URL asks for, or 0 and why it cannot be used."""
    if text.isascii() and text.isdigit() and int(text) <= INT64_MAX:
        return int(text), None
    return 0, f"offset {text!r} is not a number of items to skip (0 or more)"


def name_prefix(text: str) -> tuple[str | None, str | None]:
    """The name prefix a list page's URL filters by (None: all), or why it cannot."""
    if not text:
        return None, None
    try:
        return storable_text(text), None
    except ValueError as err:
        return None, f"prefix: {err}"


def page_links(
    path: str, offset: int, limit: int, total: int, kept: Mapping[str, str] | None = None
) -> dict[str, str | None]:
    """Links to the newer and older pages of a list shown `limit` at a time, keeping the
    page's filters."""

    def at(start: int) -> str:
        return f"{path}?{urlencode({**(kept or {}), 'offset': start})}"

    newer = at(max(0, offset - limit)) if offset > 0 else None
    older = at(offset + limit) if offset + limit < total else None
    return {"newer": newer, "older": older}
