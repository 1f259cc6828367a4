"""The one rule for names: datasets, models, components, pipelines, triggers and monitors.

Wherever a name enters — a spec, an HTTP path or body, the CLI (through the gateway), an
event announcing a version — it is checked here, and a bad one is refused with the same
sentence: `dataset name 'a/../b' may only contain letters, digits, …`.

Upper-case letters and up to 200 characters are allowed: the registry has always taken
them for datasets and models, so no name recorded before this rule is refused by it.
"""

import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
RULE = (
    "may only contain letters, digits, '.', '_' and '-', "
    "start with a letter or digit, and be at most 200 characters long"
)


class BadName(ValueError):
    """A name that breaks the rule; the message quotes it and states the rule."""


def check_name(name: str, what: str = "name") -> str:
    """`name` itself, or BadName saying `{what} {name!r} may only contain …`."""
    if not NAME.fullmatch(name):
        raise BadName(f"{what} {name!r} {RULE}")
    return name


def _validator(kind: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        try:
            return check_name(value, f"{kind} name")
        except BadName as err:
            # A custom error: pydantic would put "Value error, " in front of a ValueError.
            raise PydanticCustomError("name", "{reason}", {"reason": str(err)}) from None

    return check


def _field(kind: str) -> Any:
    return Field(
        description=f"The {kind}'s name: letters, digits, '.', '_', '-' (at most 200).",
        json_schema_extra={"pattern": f"^{NAME.pattern}$"},
    )


# A str field holding the name of each kind, checked by the rule.
ComponentName = Annotated[str, AfterValidator(_validator("component")), _field("component")]
PipelineName = Annotated[str, AfterValidator(_validator("pipeline")), _field("pipeline")]
TriggerName = Annotated[str, AfterValidator(_validator("trigger")), _field("trigger")]
MonitorName = Annotated[str, AfterValidator(_validator("monitor")), _field("monitor")]
OutputName = Annotated[
    str, AfterValidator(_validator("dataset or model")), _field("dataset or model")
]
