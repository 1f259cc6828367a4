"""A decorated function's parameters as a component's or pipeline's params and inputs.

Type hints give each param's type (int, float, str, bool, list, dict) and each input's kind
(`boxops.Dataset`, `boxops.Model`, `boxops.File`); a default makes it optional. Pure logic.
"""

import inspect
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin, get_type_hints

from boxops.declare.kinds import INPUT_KINDS, DeclarationError

PARAM_TYPES: dict[type, str] = {
    int: "int",
    float: "float",
    str: "str",
    bool: "bool",
    list: "list",
    dict: "dict",
}
ANNOTATIONS = "int, float, str, bool, list, dict, boxops.Dataset, boxops.Model or boxops.File"
NO_DEFAULT = inspect.Parameter.empty


@dataclass(frozen=True)
class Parameter:
    """One parameter: a param (`type` int … dict) or an input (`type` dataset, model, file)."""

    name: str
    is_input: bool
    type: str
    default: Any = NO_DEFAULT

    @property
    def required(self) -> bool:
        return self.default is NO_DEFAULT

    def field(self) -> dict[str, Any]:
        """As a spec's `params.<name>` or `inputs.<name>`."""
        if self.is_input:
            return {"type": self.type, "required": self.required}
        if self.required:
            return {"type": self.type, "required": True}
        return {"type": self.type, "default": self.default}


def parameters(fn: Callable[..., Any], where: str) -> list[Parameter]:
    """Each parameter of `fn`; DeclarationError naming `where` and the parameter."""
    try:
        hints = get_type_hints(fn)
    except (NameError, TypeError) as err:
        raise DeclarationError(f"{where}: cannot read its type hints: {err}") from None
    found = []
    for p in inspect.signature(fn).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise DeclarationError(
                f"{where}: parameter {p.name!r}: *args and **kwargs cannot be declared"
            )
        if p.name not in hints:
            raise DeclarationError(
                f"{where}: parameter {p.name!r} has no type annotation (one of {ANNOTATIONS})"
            )
        found.append(_parameter(p, hints[p.name], where))
    return found


def _parameter(p: inspect.Parameter, hint: Any, where: str) -> Parameter:
    base = _without_none(hint)
    origin = get_origin(base) or base
    if origin in INPUT_KINDS:
        if p.default not in (NO_DEFAULT, None):
            raise DeclarationError(
                f"{where}: input {p.name!r} may default to None only (it is bound per run)"
            )
        return Parameter(p.name, True, INPUT_KINDS[origin], p.default)
    if origin in PARAM_TYPES:
        return Parameter(p.name, False, PARAM_TYPES[origin], p.default)
    raise DeclarationError(
        f"{where}: parameter {p.name!r} is annotated {_shown(hint)}, which boxops cannot "
        f"pass (one of {ANNOTATIONS})"
    )


def _without_none(hint: Any) -> Any:
    """`int | None` and `Optional[int]` → int; anything else as it is."""
    if get_origin(hint) in (Union, types.UnionType):
        rest = [arg for arg in get_args(hint) if arg is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return hint


def _shown(hint: Any) -> str:
    return hint.__qualname__ if isinstance(hint, type) else repr(hint)


def description(fn: Callable[..., Any]) -> str:
    """The docstring's first paragraph, on one line."""
    doc = inspect.getdoc(fn) or ""
    return " ".join(doc.split("\n\n", 1)[0].split())
