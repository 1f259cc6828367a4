"""What a generic hook publishes of the body it receives. Pure: no I/O.

Without a mapping, the body itself (a JSON object). With one, an object of the mapping's
fields, each the value at a dotted path of the body (`repository.full_name`, `commits.0.id`)
— so a Git push can be `{repo, commit}` and a trigger filters and binds those.
"""

from typing import Any

from shared.dotted import MISSING, lookup


class Unmappable(ValueError):
    """The body lacks what the hook's mapping reads, or is not an object."""


def mapped(body: Any, mapping: dict[str, str]) -> dict[str, Any]:
    """The event data a hook publishes for `body`."""
    if not mapping:
        if not isinstance(body, dict):
            raise Unmappable(f"the body is {type(body).__name__}: expected a JSON object")
        return body
    data = {}
    for name, path in mapping.items():
        value = lookup(body, path)
        if value is MISSING:
            raise Unmappable(f"{name}: the body has no {path!r}")
        data[name] = value
    return data
