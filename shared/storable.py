"""What every database boxops runs on can store: text without NUL characters (PostgreSQL
refuses them) that is valid Unicode, finite numbers (JSON has no Infinity), integers a
32-bit column holds. Checked where a request comes in, so an accepted request can be recorded.
"""

import math
from typing import Any

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def problem(value: Any, path: tuple[str, ...] = ()) -> str | None:
    """Why `value` (text, a number, or lists and dicts of them) cannot be stored; None if
    it can. Names where in the value the problem is."""
    if isinstance(value, str):
        return _text_problem(value, path)
    if isinstance(value, float) and not math.isfinite(value):
        return _at(f"{value} cannot be stored: give a finite number", path)
    if isinstance(value, dict):
        items = ((str(key), key, item) for key, item in value.items())
        return next(filter(None, (_item_problem(n, k, i, path) for n, k, i in items)), None)
    if isinstance(value, list | tuple):
        found = (problem(item, (*path, str(n))) for n, item in enumerate(value))
        return next(filter(None, found), None)
    return None


def _item_problem(name: str, key: Any, item: Any, path: tuple[str, ...]) -> str | None:
    return problem(key, path) or problem(item, (*path, name))


def _text_problem(text: str, path: tuple[str, ...]) -> str | None:
    if "\x00" in text:
        return _at("a NUL character cannot be stored", path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _at("text that is not valid Unicode (a lone surrogate) cannot be stored", path)
    return None


def _at(message: str, path: tuple[str, ...]) -> str:
    return f"{message} (at {'.'.join(path)})" if path else message
