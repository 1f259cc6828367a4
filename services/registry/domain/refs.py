"""References: `NAME`, `NAME@VERSION`, `NAME@ALIAS` (`latest` is the newest version)."""

import re
from dataclasses import dataclass

from shared import names
from shared.storable import INT32_MAX

ALIAS = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{0,63}$")
LATEST = "latest"


class RefError(ValueError):
    """The text is not a reference; the message says why."""


@dataclass(frozen=True)
class Ref:
    name: str
    version: int | None = None
    alias: str | None = None

    @property
    def latest(self) -> bool:
        return self.version is None and self.alias is None

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.name}@{self.version}"
        return f"{self.name}@{self.alias}" if self.alias else self.name


def check_name(name: str, what: str = "name") -> str:
    """The one rule of `shared.names`, refused as a RefError."""
    try:
        return names.check_name(name, what)
    except names.BadName as err:
        raise RefError(str(err)) from None


def check_alias(alias: str) -> str:
    if not ALIAS.match(alias) or alias == LATEST:
        raise RefError(
            f"alias {alias!r} must start with a letter, hold letters, digits, "
            "'.', '_' and '-', and not be 'latest'"
        )
    return alias


def parse_ref(text: str, what: str = "name") -> Ref:
    """`iris` → latest, `iris@3` → version 3, `clf@production` → the alias; `what` names
    the name in a refusal (`dataset name 'a/b' may only contain …`)."""
    name, at, tail = text.strip().partition("@")
    check_name(name, what)
    if not at or tail == LATEST:
        return Ref(name)
    if number(tail):
        if not 1 <= int(tail) <= INT32_MAX:
            raise RefError(f"{text!r}: a version number is from 1 to {INT32_MAX}")
        return Ref(name, version=int(tail))
    if not ALIAS.match(tail):
        raise RefError(f"{text!r}: after @ comes a version number or an alias")
    return Ref(name, alias=tail)


def number(text: str) -> bool:
    """ASCII digits only: str.isdigit() takes '¹' too, which int() refuses."""
    return text.isascii() and text.isdigit()


def pinned(name: str, version: int) -> str:
    return f"{name}@{version}"
