"""What a token may do: its scopes against the scope a route needs. Pure: no I/O.

A route names its scope with one line, `@needs(Scope.READ)` under its router decorator;
a route that names none needs `admin`, so a route added without thought is closed, not open.
A run's own token opens only the routes marked `own_run`, and only for its own run.
A `hook` token opens only the alert hooks: what a monitoring system holds can start nothing
else. (A generic hook needs no token: its signature authenticates it, signed_hooks.py.)
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar


class Scope(StrEnum):
    READ = "read"  # every GET: runs, logs, metrics, registry, artifacts, triggers
    RUN = "run"  # submit, abort, retry runs
    WRITE = "write"  # register, push, triggers, monitors, publish events
    ADMIN = "admin"  # tokens, DLQ replay; and everything the others allow
    HOOK = "hook"  # only the alert hooks (Alertmanager, Grafana): a monitoring system's token

    @property
    def meaning(self) -> str:
        return MEANINGS[self]


MEANINGS = {
    Scope.READ: "read runs, logs, metrics, the registry, artifacts, triggers and monitors",
    Scope.RUN: "submit, abort and retry runs",
    Scope.WRITE: "register and push to the registry, store artifacts, apply triggers and "
    "monitors, publish events",
    Scope.ADMIN: "manage tokens, replay dead letters; everything the other scopes allow",
    Scope.HOOK: "deliver alerts to the Alertmanager and Grafana hooks, and nothing else",
}


@dataclass(frozen=True)
class Requirement:
    scope: Scope
    own_run: bool = False  # a run's token may call it for its own run (path `run_id`)
    signed: bool = False  # no token: the request's signature authenticates it


@dataclass(frozen=True)
class Principal:
    """Who a request comes from: a named token with its scopes, or one run's token."""

    name: str
    scopes: frozenset[Scope] = frozenset()
    run_id: str | None = None  # set for a run's token: it may act on this run only


DEFAULT = Requirement(Scope.ADMIN)
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def needs(
    scope: Scope, *, own_run: bool = False, signed: bool = False
) -> Callable[[Endpoint], Endpoint]:
    """Mark a route's endpoint with the scope it needs (put it under `@router.get(…)`);
    `signed`: a route its signature authenticates, served without the token check."""

    def mark(endpoint: Endpoint) -> Endpoint:
        endpoint.requirement = Requirement(scope, own_run, signed)  # type: ignore[attr-defined]
        return endpoint

    return mark


def requirement_of(endpoint: Callable[..., Any]) -> Requirement:
    return getattr(endpoint, "requirement", DEFAULT)


def refusal(principal: Principal, needed: Requirement, run_id: str | None) -> str | None:
    """Why `principal` may not call a route needing `needed` (on `run_id`), or None."""
    if principal.run_id is not None:
        if needed.own_run and run_id == principal.run_id:
            return None
        return f"a run's token opens only its own run's routes; this one needs scope {needed.scope}"
    if needed.scope in principal.scopes or Scope.ADMIN in principal.scopes:
        return None
    has = ", ".join(sorted(principal.scopes)) or "no scope"
    return f"this route needs scope {needed.scope}; token {principal.name!r} has {has}"


def document_scope(route: Any) -> None:
    """Put the scope a route needs in its OpenAPI operation: `x-required-scope`,
    `x-run-token` and a sentence of its description."""
    needed = requirement_of(route.endpoint)
    extra = {
        "x-required-scope": needed.scope.value,
        "x-run-token": needed.own_run,
        "x-signed": needed.signed,
    }
    route.openapi_extra = (route.openapi_extra or {}) | extra
    route.description = f"{route.description}\n\n{describe(needed)}".strip()


def describe(needed: Requirement) -> str:
    """The sentence the OpenAPI document gives each route."""
    text = f"Requires scope `{needed.scope}` (or `admin`)."
    if needed.signed:
        return "Needs no token: the hook's signature (`X-Hub-Signature-256`) authenticates it."
    if needed.scope is Scope.ADMIN:
        text = "Requires scope `admin`."
    if needed.own_run:
        text += " A run's own token may call it for its own run."
    return text
