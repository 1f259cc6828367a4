"""A value at a dotted path of JSON-like data (`metadata.rows`, `files.0.path`): how
trigger filters and bindings and a hook's mapping read events and bodies. Pure."""

from typing import Any

MISSING = object()


def lookup(data: Any, path: str) -> Any:
    """The value at a dotted path, or MISSING."""
    for part in path.split("."):
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isascii() and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return MISSING
    return data
