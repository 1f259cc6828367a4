"""Who may publish and subscribe to what on the bus: one NATS identity per service, each
allowed the subjects it owns (DESIGN.md §2, §3a), and ingress identities for other systems.

Every identity also gets what its plumbing needs, and no more of JetStream's API: the
streams are declared by the operator (`boxops up`, compose's bus-streams) before services
start, so a service only asks that they exist (STREAM.INFO), creates and reads its own
durable consumers (READS), and acks what those deliver. Nobody but the operator updates,
purges or deletes a stream or deletes a consumer. Besides: `dlq.>` (any consumer
dead-letters), its own reply inbox (`_INBOX.<user>.>`, so no identity reads another's
replies) and answers to the requests it serves (`allow_responses`).
tests/unit/shared/test_bus_permissions.py checks every event, request and consumer in the
code against these tables.
"""

import re
from dataclasses import dataclass

from shared.bus import CUSTOM, EVENTS, STREAMS, TELEMETRY
from shared.bus import DEAD_LETTERS as DLQ_STREAM
from shared.events import CUSTOM_PREFIX, PUBLIC, is_public

API = "$JS.API"
ANY = "*"  # a consumer name: one whose name the identity does not know in advance
DEAD_LETTERS = "dlq.>"
INGRESS = "ingress"
ADMIN = "admin"
TOKEN = re.compile(r"[^\s.*>]+|\*|>")
PUBLIC_SUBJECTS = (*(event.subject for event in PUBLIC), f"{CUSTOM_PREFIX}>")
PUBLIC_HELP = ", ".join([*(event.subject for event in PUBLIC), f"{CUSTOM_PREFIX}…"])


@dataclass(frozen=True)
class Permissions:
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    allow_responses: bool = True


@dataclass(frozen=True)
class Reads:
    """A consumer an identity reads: on `stream`, named `consumer` (ANY: an executor's
    carry its id; an ephemeral one, a random name), filtered on `filters` (">": any)."""

    stream: str
    consumer: str
    filters: tuple[str, ...] = (">",)
    gets: bool = False  # it also reads stored messages by sequence (STREAM.MSG.GET)
    acks: bool = True  # a replay or tail only reads: it never acks


def inbox_prefix(user: str) -> str:
    """Where `user`'s request replies and publish acks come: nobody else may read them."""
    return f"_INBOX.{user}"


# Subjects each service publishes, beyond the plumbing above: its events (table of
# DESIGN.md §2) and the requests it makes to other services.
OWN_PUBLISH: dict[str, tuple[str, ...]] = {
    "registry": (
        "dataset.created",
        "dataset.version.created",
        "model.version.created",
        "model.alias.set",
        "component.registered",
        "pipeline.registered",
        "svc.artifact.>",
    ),
    "artifact": ("artifact.stored",),
    "scheduler": (
        "run.pending",
        "run.dispatched.*",
        "run.running",
        "run.completed",
        "run.failed",
        "run.aborted",
        "run.stop.requested.*",
        "svc.registry.>",
    ),
    "trigger": (
        "run.requested",
        "run.abort.requested",
        "trigger.fired",
        "metric.below_threshold",
        "metric.above_threshold",
        "svc.registry.>",
    ),
    "executor": (
        "executor.run.started",
        "executor.run.ended",
        "executor.heartbeat",
        "log.*",
        "metrics.logged",
    ),
    # The gateway publishes the commands it serves and, for other systems, public subjects;
    # an alert its hooks receive carrying a value and a threshold is a threshold crossing.
    "gateway": (
        "run.requested",
        "run.abort.requested",
        *PUBLIC_SUBJECTS,
        "metric.below_threshold",
        "metric.above_threshold",
        "svc.>",
    ),
}
SERVICES = tuple(OWN_PUBLISH)
# Core (not JetStream) subscriptions beyond a service's own requests and replies: the
# gateway hears the scheduler's intake decisions to answer a submission with them; every
# scheduler replica hears the executors' heartbeats as they are sent (a follower knows the
# executors the moment it leads).
OWN_SUBSCRIBE: dict[str, tuple[str, ...]] = {
    "gateway": ("run.pending", "run.failed"),
    "scheduler": ("executor.heartbeat",),
}


# The consumers each service reads (shared/bus.py `consume`, shared/nats_adapter.py
# `replay`/`tail`), so the JetStream API it may call.
READS: dict[str, tuple[Reads, ...]] = {
    "registry": (
        Reads(EVENTS.name, "registry-datasets", ("dataset.version.created",)),
        Reads(EVENTS.name, "registry-runs", ("run.completed",)),
    ),
    "artifact": (),
    "scheduler": (
        Reads(EVENTS.name, "scheduler-requests", ("run.requested",)),
        Reads(EVENTS.name, "scheduler-aborts", ("run.abort.requested",)),
        Reads(EVENTS.name, "scheduler-reports", ("executor.run.*",)),
        Reads(TELEMETRY.name, "scheduler-heartbeats", ("executor.heartbeat",)),
        Reads(TELEMETRY.name, "scheduler-metrics", ("metric.logged", "metrics.logged")),
    ),
    "trigger": (
        Reads(EVENTS.name, "trigger-boxops_events"),
        Reads(CUSTOM.name, "trigger-boxops_custom"),
        Reads(TELEMETRY.name, "trigger-metrics", ("metric.logged", "metrics.logged")),
        # A dry run replays what its trigger would have heard.
        Reads(EVENTS.name, ANY, acks=False),
        Reads(CUSTOM.name, ANY, acks=False),
    ),
    "executor": (
        Reads(EVENTS.name, ANY, ("run.dispatched.*",)),
        Reads(EVENTS.name, ANY, ("run.stop.requested.*",)),
    ),
    # Live tails of any stream, stored log chunks, the dead letters it lists and replays.
    "gateway": tuple(
        Reads(stream.name, ANY, gets=stream in (TELEMETRY, DLQ_STREAM), acks=False)
        for stream in STREAMS
    ),
}


def jetstream(name: str) -> tuple[str, ...]:
    """The JetStream API a service may call, derived from the consumers it reads."""
    allowed = [f"{API}.STREAM.INFO.{stream.name}" for stream in STREAMS]
    for reads in READS[name]:
        allowed += consumer_api(reads)
    if name == "gateway":  # it removes a dead letter it replayed (DLQ replay), only that
        allowed.append(f"{API}.STREAM.MSG.DELETE.{DLQ_STREAM.name}")
    return tuple(dict.fromkeys(allowed))


def consumer_api(reads: Reads) -> list[str]:
    stream, consumer = reads.stream, reads.consumer
    create = f"{API}.CONSUMER.CREATE.{stream}.{consumer}"
    # nats-py names the filter in the subject when there is one and it is not ">"; the
    # server checks the two agree, so a consumer made here filters only on what it says.
    if len(reads.filters) == 1:
        creates = [f"{create}.{reads.filters[0]}"]
        creates += [create] if reads.filters[0] == ">" else []
    else:
        creates = [create]
    return [
        *creates,
        f"{API}.CONSUMER.INFO.{stream}.{consumer}",
        f"{API}.CONSUMER.MSG.NEXT.{stream}.{consumer}",
        *([f"$JS.ACK.{stream}.{consumer}.>"] if reads.acks else []),
        *([f"{API}.STREAM.MSG.GET.{stream}"] if reads.gets else []),
    ]


def service(name: str) -> Permissions:
    # Its own health subject too: a container's health probe asks as the service itself.
    publish = (*OWN_PUBLISH[name], *jetstream(name), DEAD_LETTERS, f"svc.{name}.health")
    subscribe = (f"svc.{name}.>", f"{inbox_prefix(name)}.>", *OWN_SUBSCRIBE.get(name, ()))
    return Permissions(publish, subscribe, True)


def admin() -> Permissions:
    """The operator's identity on this machine (the CLI, tools): everything."""
    return Permissions((">",), (">",))


def ingress(user: str, subjects: tuple[str, ...]) -> Permissions:
    """Another system's identity: it may publish the given public subjects, and read only
    the acks JetStream sends to its own inbox."""
    if not subjects:
        raise ValueError("give at least one subject to publish")
    refused = [s for s in subjects if not public_pattern(s)]
    if refused:
        raise ValueError(f"not public subjects: {', '.join(refused)} (public: {PUBLIC_HELP})")
    return Permissions(subjects, (f"{inbox_prefix(user)}.>",), allow_responses=False)


def public_pattern(subject: str) -> bool:
    """A public subject, or a wildcard only over custom subjects (`ext.>`, `ext.shop.*`)."""
    tokens = subject.split(".")
    if not all(TOKEN.fullmatch(t) for t in tokens) or ">" in tokens[:-1]:
        return False
    wild = "*" in tokens or ">" in tokens
    return is_public(subject) and (not wild or subject.startswith(CUSTOM_PREFIX))


def matches(pattern: str, subject: str) -> bool:
    """Does the NATS subject pattern (`*` one token, `>` the rest) cover `subject`?"""
    p, s = pattern.split("."), subject.split(".")
    if p[-1] == ">":
        return len(s) >= len(p) and all(a in ("*", b) for a, b in zip(p[:-1], s, strict=False))
    return len(p) == len(s) and all(a in ("*", b) for a, b in zip(p, s, strict=True))


def allowed(permissions: Permissions, subject: str) -> bool:
    """May `permissions` publish on the concrete `subject`?"""
    return any(matches(p, subject) for p in permissions.publish)
