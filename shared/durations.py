"""Durations in specs: `90`, `"90s"`, `"10m"`, `"1h"`, `"2d"` → seconds."""

import math
import re
from typing import Annotated

from pydantic import BeforeValidator

MAX_S = 100 * 365 * 86400  # a century: longer is a mistake, and would overflow a date
UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")


def seconds(value: object) -> float:
    """Seconds from a number or text; refused when negative or beyond a century."""
    duration = _seconds(value)
    if not duration <= MAX_S:  # NaN too
        raise ValueError(f"a duration is at most a century ({MAX_S} s)")
    return duration


def _seconds(value: object) -> float:
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or text like '5s', '10m', '1h'")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value) if value <= MAX_S else math.inf  # refused by seconds()
    match = PATTERN.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration: use e.g. 30, '5s', '10m', '1h', '2d'")
    return float(match.group(1)) * UNITS[match.group(2) or "s"]


Duration = Annotated[float, BeforeValidator(seconds)]
