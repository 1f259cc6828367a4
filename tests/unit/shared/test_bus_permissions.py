"""The bus's permissions allow what the code publishes, and nothing a service does not own.

What the code publishes is read from its source: every event a service's package builds
(`RunCompleted(…)`, or a model picked by `A if … else B`) and every request subject of
another service it names (`svc.…` constants).
"""

import ast
import importlib
import inspect
from pathlib import Path
from typing import Any

import pytest

import shared.artifacts
import shared.queries
import shared.registry_api
from services.artifact.settings import ArtifactSettings
from services.executor.settings import ExecutorSettings
from services.gateway.settings import GatewaySettings
from services.registry.settings import RegistrySettings
from services.scheduler.settings import SchedulerSettings
from services.trigger.settings import TriggerSettings
from shared import bus_permissions as bp
from shared import events
from shared.bus import DEAD_LETTERS, STREAMS
from shared.settings import BoxopsSettings

SETTINGS: dict[str, type[BoxopsSettings]] = {
    "registry": RegistrySettings,
    "artifact": ArtifactSettings,
    "scheduler": SchedulerSettings,
    "trigger": TriggerSettings,
    "executor": ExecutorSettings,
    "gateway": GatewaySettings,
}
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


def test_no_service_may_change_delete_or_purge_a_stream_or_delete_a_consumer() -> None:
    for service in bp.SERVICES:
        permissions = bp.service(service)
        for stream in STREAMS:
            assert bp.allowed(permissions, f"$JS.API.STREAM.INFO.{stream.name}"), service
            for change in ("CREATE", "UPDATE", "DELETE", "PURGE"):
                assert not bp.allowed(permissions, f"$JS.API.STREAM.{change}.{stream.name}")
            for durable in ("scheduler-requests", "registry-runs", "x"):
                delete = f"$JS.API.CONSUMER.DELETE.{stream.name}.{durable}"
                assert not bp.allowed(permissions, delete), service
            if stream != DEAD_LETTERS:
                delete = f"$JS.API.STREAM.MSG.DELETE.{stream.name}"
                assert not bp.allowed(permissions, delete), service
        for other in ("$JS.API.INFO", "$JS.API.STREAM.NAMES", "$JS.API.ACCOUNT.PURGE.x"):
            assert not bp.allowed(permissions, other), service


def test_a_service_may_not_make_read_or_ack_another_services_durable() -> None:
    requests = "BOXOPS_EVENTS.scheduler-requests"
    for service in ("registry", "artifact"):
        permissions = bp.service(service)
        for api in (
            f"$JS.API.CONSUMER.CREATE.{requests}",
            f"$JS.API.CONSUMER.CREATE.{requests}.run.requested",
            f"$JS.API.CONSUMER.MSG.NEXT.{requests}",
        ):
            assert not bp.allowed(permissions, api), (service, api)
    # Tails and dry runs read through consumers of random names, but never ack.
    for service in ("registry", "artifact", "trigger", "gateway"):
        assert not bp.allowed(bp.service(service), f"$JS.ACK.{requests}.1.2.3.4.0"), service
    # The executor's durables carry its id, so it may name any, but only over its subjects.
    executor = bp.service("executor")
    assert bp.allowed(
        executor, "$JS.API.CONSUMER.CREATE.BOXOPS_EVENTS.executor-vm.run.dispatched.vm"
    )
    assert not bp.allowed(executor, f"$JS.API.CONSUMER.CREATE.{requests}.run.requested")
    assert not bp.allowed(executor, f"$JS.API.CONSUMER.CREATE.{requests}")


@pytest.mark.parametrize("service", bp.SERVICES)
def test_every_consumer_a_service_reads_it_may_make_read_and_ack(
    service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    permissions = bp.service(service)
    loops = built_consumers(service, tmp_path, monkeypatch)
    assert loops or service in ("artifact", "gateway")
    for stream, config in loops:
        api, name = f"$JS.API.CONSUMER.{{}}.{stream}.{config.durable_name}", config.durable_name
        create = api.format("CREATE")
        if config.filter_subject and config.filter_subject != ">":  # as nats-py asks
            create += f".{config.filter_subject}"
        for subject in (create, api.format("INFO"), api.format("MSG.NEXT")):
            assert bp.allowed(permissions, subject), (service, subject)
        assert bp.allowed(permissions, f"$JS.ACK.{stream}.{name}.1.7.3.1765000000.0"), name


def built_consumers(
    service: str, home: Path, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[str, Any]]:
    """The durable consumers the service's own `build_app` sets up (nothing connects)."""
    monkeypatch.setenv("BOXOPS_HOME", str(home))
    monkeypatch.setenv("BOXOPS_EXECUTOR_ID", "vm")
    monkeypatch.setenv("BOXOPS_RUN_TOKEN_SECRET", "s" * 32)
    monkeypatch.setenv("BOXOPS_API_TOKEN", "t" * 32)
    main = importlib.import_module(f"services.{service}.__main__")
    built = main.build_app(SETTINGS[service]())
    bus = built.state.service.bus if service == "gateway" else built.bus
    return [(loop.stream, loop.config) for loop in bus.loops]


def test_only_the_gateway_removes_a_dead_letter_it_replayed() -> None:
    delete = f"$JS.API.STREAM.MSG.DELETE.{DEAD_LETTERS.name}"
    assert [s for s in bp.SERVICES if bp.allowed(bp.service(s), delete)] == ["gateway"]


def test_the_gateway_forwards_public_subjects() -> None:
    for subject in ("dataset.version.created", "metric.logged", "metrics.logged", "ext.shop"):
        assert bp.allowed(bp.service("gateway"), subject)
    # and what its alert hooks publish: the alerts, and the crossings some carry
    for subject in ("alert.firing", "alert.resolved", "metric.below_threshold"):
        assert bp.allowed(bp.service("gateway"), subject)
    assert not bp.is_public("metric.below_threshold")


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
