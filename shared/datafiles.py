"""Reading dataset files cheaply: walking a tree, and what a CSV or Parquet file holds.

Used where files are at hand: the CLI before a push, the registry when it pins a file:// URI.
"""

import csv
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

SNIFF_ROWS = 1000  # rows read to guess a column's type
MAX_CSV_BYTES = 256 * 1024**2  # rows of bigger CSVs are not counted: not cheap any more
TABLE_SUFFIXES = (".csv", ".parquet", ".pq")


def walk(root: Path) -> Iterator[tuple[str, os.stat_result, Path]]:
    """(relative '/'-path, stat, path) of every regular file under root (or root itself),
    in path order; symbolic links are followed, hidden VCS folders skipped."""
    if root.is_file():
        yield root.name, root.stat(), root
        return
    for directory, subdirs, names in os.walk(root, followlinks=True):
        subdirs[:] = sorted(d for d in subdirs if d not in (".git", ".hg", ".svn"))
        base = Path(directory)
        for name in sorted(names):
            path = base / name
            if path.is_file():
                yield path.relative_to(root).as_posix(), path.stat(), path


def describe(paths: Iterable[Path]) -> dict[str, Any]:
    """Columns, types and row count of the CSV/Parquet files among `paths` when they share
    their columns; {} when there are none or they differ."""
    tables = [p for p in paths if p.suffix.lower() in TABLE_SUFFIXES]
    if not tables:
        return {}
    described = [describe_table(p) for p in tables]
    first = described[0]
    if not first or any(d.get("columns") != first.get("columns") for d in described):
        return {}
    rows = [d.get("rows") for d in described]
    total = sum(r for r in rows if isinstance(r, int)) if None not in rows else None
    return {"format": first["format"], "columns": first["columns"], "rows": total}


def describe_table(path: Path) -> dict[str, Any]:
    """{"format", "columns": [{"name", "type"}], "rows"} of one CSV or Parquet file."""
    try:
        if path.suffix.lower() == ".csv":
            return _csv(path)
        return _parquet(path)
    except (OSError, ValueError, csv.Error, UnicodeDecodeError):
        return {}


def _csv(path: Path) -> dict[str, Any]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header:
            return {}
        sample = [row for _, row in zip(range(SNIFF_ROWS), reader, strict=False)]
        rows: int | None = len(sample)
        if len(sample) == SNIFF_ROWS:
            rows = len(sample) + sum(1 for _ in reader) if _small(path) else None
    columns = [
        {"name": name, "type": _column_type(row[i] for row in sample if i < len(row))}
        for i, name in enumerate(header)
    ]
    return {"format": "csv", "columns": columns, "rows": rows}


def _small(path: Path) -> bool:
    return path.stat().st_size <= MAX_CSV_BYTES


def _column_type(values: Iterable[str]) -> str:
    present = [v for v in values if v != ""]
    if not present:
        return "string"
    for kind, check in (("int", int), ("float", float)):
        try:
            for value in present:
                check(value)
            return kind
        except ValueError:
            continue
    if all(v.lower() in ("true", "false") for v in present):
        return "bool"
    return "string"


def _parquet(path: Path) -> dict[str, Any]:
    try:
        import pyarrow.parquet as pq  # optional: without it a Parquet file is just a file
    except ImportError:
        return {"format": "parquet"}
    try:
        meta = pq.read_metadata(path)
    except Exception as err:  # pyarrow raises its own ArrowInvalid for a damaged footer
        raise ValueError(f"{path}: not a Parquet file: {err}") from None
    schema = meta.schema.to_arrow_schema()
    columns = [{"name": field.name, "type": str(field.type)} for field in schema]
    return {"format": "parquet", "columns": columns, "rows": int(meta.num_rows)}
