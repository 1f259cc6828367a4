"""The one rule for what a param value of each type may be, and how it is converted.

Run params often arrive as strings (CLI, templated event bindings), so a string is
converted when it spells a value of the type; a spec's defaults pass the same rule."""

import json
from collections.abc import Callable
from typing import Any


def _to_str(value: Any) -> str:
    if isinstance(value, (dict, list)):
        raise TypeError
    return str(value)


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.lower() in ("true", "1", "yes")
    raise ValueError


def _to_int(value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError
    return int(value)


def _to_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError
    return float(value)


_SCALARS: dict[str, Callable[[Any], Any]] = {
    "str": _to_str,
    "bool": _to_bool,
    "int": _to_int,
    "float": _to_float,
}


def convert(kind: str, value: Any) -> Any:
    """`value` as a `kind` (str, int, float, bool, list, dict); TypeError or ValueError if not."""
    if kind in _SCALARS:
        return _SCALARS[kind](value)
    parsed = json.loads(value) if isinstance(value, str) else value
    if not isinstance(parsed, list if kind == "list" else dict):
        raise TypeError
    return parsed
