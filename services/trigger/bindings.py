"""Bindings: `{{ event.dataset }}@{{ event.version }}` filled from what fired a trigger. Pure."""

from typing import Any

from services.trigger.filters import MISSING, lookup
from shared.specs import REFERENCE


class MissingBinding(Exception):
    def __init__(self, ref: str) -> None:
        super().__init__(f"binding {{{{ {ref} }}}} has no value in this event")
        self.ref = ref


def render(value: Any, context: dict[str, Any]) -> Any:
    """A whole-string reference keeps the value's type; references inside text become text."""
    if isinstance(value, dict):
        return {k: render(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, context) for v in value]
    if not isinstance(value, str):
        return value
    whole = REFERENCE.fullmatch(value.strip())
    if whole:
        return _value(whole.group(1), context)
    return REFERENCE.sub(lambda m: str(_value(m.group(1), context)), value)


def _value(ref: str, context: dict[str, Any]) -> Any:
    found = lookup(context, ref)
    if found is MISSING:
        raise MissingBinding(ref)
    return found
