"""Who may publish and subscribe to what on the bus: one NATS identity per service, each
allowed the subjects it owns (DESIGN.md §2, §3a), and ingress identities for other systems.

Every identity also gets what the plumbing needs: the JetStream API and acks (streams,
durable pull consumers), `dlq.>` (any consumer dead-letters), its own reply inbox
(`_INBOX.<user>.>`, so no identity reads another's replies) and answers to the requests it
serves (`allow_responses`). tests/unit/shared/test_bus_permissions.py checks every event
and request in the code against this table.
"""

import re
from dataclasses import dataclass

from shared.bus import DEAD_LETTERS as DLQ_STREAM
from shared.bus import STREAMS
from shared.events import CUSTOM_PREFIX, PUBLIC, is_public

JETSTREAM = ("$JS.API.>", "$JS.ACK.>")
# No service deletes or purges what the streams keep: no identity of one may; but the
# gateway removes a dead letter it replayed (DLQ replay), and only that.
ERASING = (
    "$JS.API.STREAM.DELETE.>",
    "$JS.API.STREAM.PURGE.>",
    *(f"$JS.API.STREAM.MSG.DELETE.{stream.name}" for stream in STREAMS if stream != DLQ_STREAM),
)
DLQ_ERASING = f"$JS.API.STREAM.MSG.DELETE.{DLQ_STREAM.name}"
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
    publish_denied: tuple[str, ...] = ()


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
    # The gateway publishes the commands it serves and, for other systems, public subjects.
    "gateway": (
        "run.requested",
        "run.abort.requested",
        *PUBLIC_SUBJECTS,
        "svc.>",
    ),
}
SERVICES = tuple(OWN_PUBLISH)
# Core (not JetStream) subscriptions beyond a service's own requests and replies: the
# gateway hears the scheduler's intake decisions to answer a submission with them.
OWN_SUBSCRIBE: dict[str, tuple[str, ...]] = {"gateway": ("run.pending", "run.failed")}


def service(name: str) -> Permissions:
    # Its own health subject too: a container's health probe asks as the service itself.
    publish = (*OWN_PUBLISH[name], *JETSTREAM, DEAD_LETTERS, f"svc.{name}.health")
    denied = ERASING if name == "gateway" else (*ERASING, DLQ_ERASING)
    subscribe = (f"svc.{name}.>", f"{inbox_prefix(name)}.>", *OWN_SUBSCRIBE.get(name, ()))
    return Permissions(publish, subscribe, True, denied)


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
    """May `permissions` publish on the concrete `subject` (a deny wins over an allow)?"""
    return any(matches(p, subject) for p in permissions.publish) and not any(
        matches(p, subject) for p in permissions.publish_denied
    )
