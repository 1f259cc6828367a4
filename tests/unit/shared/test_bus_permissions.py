"""The bus's permissions allow what the code publishes, and nothing a service does not own.

What the code publishes is read from its source: every event a service's package builds
(`RunCompleted(…)`, or a model picked by `A if … else B`) and every request subject of
another service it names (`svc.…` constants).
"""

import ast
import inspect
from pathlib import Path

import pytest

import shared.artifacts
import shared.queries
import shared.registry_api
from shared import bus_permissions as bp
from shared import events
from shared.bus import DEAD_LETTERS, STREAMS

ROOT = Path(__file__).resolve().parents[3]
CATALOG = {
    name: model
    for name, model in vars(events).items()
    if inspect.isclass(model) and issubclass(model, events.Event) and hasattr(model, "subject")
}
SUFFIXED = {"run.dispatched", "run.stop.requested", "log"}  # published on <subject>.<id>
REQUESTS = {
    name: value
    for module in (shared.queries, shared.registry_api, shared.artifacts)
    for name, value in vars(module).items()
    if isinstance(value, str) and value.startswith("svc.")
}


def concrete(subject: str) -> str:
    return f"{subject}.x" if subject in SUFFIXED else subject


def _sources(service: str) -> list[ast.AST]:
    return [ast.parse(p.read_text()) for p in (ROOT / "services" / service).rglob("*.py")]


def built_events(service: str) -> set[str]:
    """Subjects of the events the service's code constructs (concrete: `.x` for an id)."""
    names: set[str] = set()
    for tree in _sources(service):
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                names.add(node.func.id)
            if isinstance(node, ast.IfExp):  # model = Below if … else Above; model(…)
                names |= {n.id for n in (node.body, node.orelse) if isinstance(n, ast.Name)}
    return {concrete(CATALOG[name].subject) for name in names if name in CATALOG}


def requested(service: str) -> set[str]:
    """The `svc.…` subjects of other services that the service's code names."""
    found = set()
    for tree in _sources(service):
        for node in ast.walk(tree):
            name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
            if name in REQUESTS and not REQUESTS[name].startswith(f"svc.{service}."):
                found.add(REQUESTS[name])
    return found


@pytest.mark.parametrize("service", bp.SERVICES)
def test_every_event_a_service_builds_it_may_publish(service: str) -> None:
    permissions = bp.service(service)
    refused = [s for s in built_events(service) if not bp.allowed(permissions, s)]
    assert not refused, f"{service} builds events it may not publish: {refused}"


@pytest.mark.parametrize("service", bp.SERVICES)
def test_every_request_a_service_makes_it_may_send(service: str) -> None:
    permissions = bp.service(service)
    refused = [s for s in requested(service) if not bp.allowed(permissions, s)]
    assert not refused, f"{service} asks what it may not: {refused}"


def test_the_scan_finds_what_services_publish_and_ask() -> None:
    assert {"run.completed", "run.dispatched.x"} <= built_events("scheduler")
    assert {"metric.below_threshold", "metric.above_threshold"} <= built_events("trigger")
    assert "svc.artifact.blobs.exists" in requested("registry")
    assert "svc.registry.components.get" in requested("scheduler")


def test_only_the_scheduler_publishes_run_states() -> None:
    states = [m.subject for m in CATALOG.values() if issubclass(m, events.RunTransition)]
    assert "run.completed" in states
    for service in bp.SERVICES:
        published = [
            s for s in states if bp.allowed(bp.service(service), s + ".x" * (s in SUFFIXED))
        ]
        assert bool(published) == (service == "scheduler"), (service, published)
    assert not bp.allowed(bp.service("gateway"), "run.dispatched.vm")


def test_each_service_answers_its_own_requests_and_reads_its_own_replies() -> None:
    for service in bp.SERVICES:
        permissions = bp.service(service)
        assert f"svc.{service}.>" in permissions.subscribe
        assert f"_INBOX.{service}.>" in permissions.subscribe
        assert "_INBOX.>" not in permissions.subscribe
        assert permissions.allow_responses
        assert bp.allowed(permissions, "dlq.run.completed")
        assert bp.allowed(permissions, "$JS.API.CONSUMER.MSG.NEXT.BOXOPS_EVENTS.x")


def test_no_service_may_delete_or_purge_what_the_streams_keep() -> None:
    for service in bp.SERVICES:
        permissions = bp.service(service)
        assert bp.allowed(permissions, "$JS.API.STREAM.UPDATE.BOXOPS_CUSTOM")
        for stream in STREAMS:
            for erase in ("STREAM.DELETE", "STREAM.PURGE"):
                assert not bp.allowed(permissions, f"$JS.API.{erase}.{stream.name}"), service
            if stream != DEAD_LETTERS:
                delete = f"$JS.API.STREAM.MSG.DELETE.{stream.name}"
                assert not bp.allowed(permissions, delete), service


def test_only_the_gateway_removes_a_dead_letter_it_replayed() -> None:
    delete = f"$JS.API.STREAM.MSG.DELETE.{DEAD_LETTERS.name}"
    assert [s for s in bp.SERVICES if bp.allowed(bp.service(s), delete)] == ["gateway"]


def test_the_gateway_forwards_public_subjects() -> None:
    for subject in ("dataset.version.created", "metric.logged", "metrics.logged", "ext.shop"):
        assert bp.allowed(bp.service("gateway"), subject)


def test_an_ingress_identity_publishes_only_public_subjects() -> None:
    ingress = bp.ingress("ingress", bp.PUBLIC_SUBJECTS)
    assert bp.allowed(ingress, "dataset.version.created")
    assert bp.allowed(ingress, "ext.shop.sale")
    for model in CATALOG.values():
        assert bp.allowed(ingress, concrete(model.subject)) == events.is_public(model.subject)
    assert not bp.allowed(ingress, "$JS.API.STREAM.PURGE.BOXOPS_EVENTS")
    assert ingress.subscribe == ("_INBOX.ingress.>",)
    assert not ingress.allow_responses


@pytest.mark.parametrize(
    "subjects",
    [(), ("run.completed",), ("metric.*",), (">",), ("ext",), ("ext.a b",), ("ext.>.x",)],
)
def test_an_ingress_identity_refuses_what_is_not_public(subjects: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="subject"):
        bp.ingress("ingress-x", subjects)


def test_wildcards_are_allowed_only_over_custom_subjects() -> None:
    assert bp.ingress("ingress-x", ("ext.>", "ext.shop.*")).publish == ("ext.>", "ext.shop.*")


def test_the_gateway_may_hear_the_intake_decisions_it_waits_for() -> None:
    from services.gateway.decisions import DECIDING

    gateway = bp.service("gateway")
    for model in DECIDING:
        assert model.subject in gateway.subscribe
    assert not any("run." in s for s in bp.service("registry").subscribe)
