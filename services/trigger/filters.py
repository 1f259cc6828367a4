"""`where` filters over event data: dotted paths and operators. Pure."""

import re
from typing import Any

from shared.dotted import MISSING, lookup


def matches(where: dict[str, Any], data: dict[str, Any]) -> bool:
    return all(_holds(lookup(data, path), cond) for path, cond in where.items())


def _holds(value: Any, condition: Any) -> bool:
    if not isinstance(condition, dict):
        return value is not MISSING and value == condition
    return all(_test(op, value, expected) for op, expected in condition.items())


def _test(op: str, value: Any, expected: Any) -> bool:
    if op == "exists":
        return (value is not MISSING) == bool(expected)
    if value is MISSING:
        return op in ("ne", "nin")
    try:
        return bool(_COMPARE[op](value, expected))
    except TypeError:
        return False  # e.g. a string compared with a number: no match, not a crash


_COMPARE = {
    "eq": lambda v, e: v == e,
    "ne": lambda v, e: v != e,
    "lt": lambda v, e: v < e,
    "lte": lambda v, e: v <= e,
    "gt": lambda v, e: v > e,
    "gte": lambda v, e: v >= e,
    "in": lambda v, e: v in e,
    "nin": lambda v, e: v not in e,
    "regex": lambda v, e: isinstance(v, str) and re.search(e, v) is not None,
}


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS wildcard matching: `*` one token, `>` the rest."""
    p, s = pattern.split("."), subject.split(".")
    for i, part in enumerate(p):
        if part == ">":
            return len(s) > i
        if i >= len(s) or (part != "*" and part != s[i]):
            return False
    return len(p) == len(s)
