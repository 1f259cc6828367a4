"""Stdout markers a black box prints to be recorded: pure logic.

::metric name=acc value=0.93 step=3
::param name=lr value=0.01
::tag name=team value=vision
"""

import math
import re
import shlex
from dataclasses import dataclass

PREFIX = "::"
KINDS = ("metric", "param", "tag")
NAME = re.compile(r"^[A-Za-z0-9_.:/@-]{1,200}$")


@dataclass(frozen=True)
class Marker:
    kind: str  # metric | param | tag
    name: str
    value: str | float
    step: int | None = None


def parse(line: str) -> Marker | None:
    """The marker a line holds, or None (an ordinary line, or a marker that is malformed)."""
    if not line.startswith(PREFIX):
        return None
    kind, _, rest = line[len(PREFIX) :].partition(" ")
    if kind not in KINDS:
        return None
    fields = _fields(rest)
    name, value = fields.get("name", ""), fields.get("value")
    if not NAME.match(name) or value is None:
        return None
    if kind != "metric":
        return Marker(kind, name, value)
    number, step = _number(value), _step(fields.get("step"))
    if number is None or step is False:
        return None
    return Marker(kind, name, number, step if isinstance(step, int) else None)


def _fields(text: str) -> dict[str, str]:
    try:
        parts = shlex.split(text)
    except ValueError:
        return {}
    return dict(part.split("=", 1) for part in parts if "=" in part)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _step(text: str | None) -> int | bool | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return False
