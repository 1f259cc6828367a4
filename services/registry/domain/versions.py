"""Numbering, identity, states and drift of versions."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.registry.domain.manifests import diff

PINNING, PINNED, FAILED = "pinning", "pinned", "failed"
SHA256 = re.compile(r"^(sha256:)?[0-9a-f]{64}$")

# Pin fields that say nothing about the content: they never count as drift.
NOT_CONTENT = frozenset({"kind", "checked_at", "listing", "note"})
# Taken when the data itself was hashed: a re-pin that only asks the source lacks them.
HASHED = frozenset({"sha256", "digest"})


def next_version(latest: int | None) -> int:
    return (latest or 0) + 1


def identity(*, digest: str | None, pin: Mapping[str, Any] | None, uri: str | None) -> str:
    """What makes two announcements the same version: the digest when one is known, else what
    the source says about the data (size and mtime, ETag), else the URI itself."""
    if digest:
        return digest
    fingerprint = (pin or {}).get("fingerprint")
    if fingerprint:
        return f"{uri}#{fingerprint}"
    return uri or ""


def pending_identity(*, digest: str | None, uri: str) -> str:
    """Until its data is hashed, a version is known by its declared digest, else its URI."""
    return digest or f"{uri}#pinning"


def digest_problem(declared: str | None, found: str) -> str | None:
    """Why a declared digest does not describe the data boxops hashed (`sha256:…`), if so."""
    if declared is None:
        return None
    if not SHA256.match(declared.lower()):
        return f"digest {declared!r} cannot be checked: boxops checks sha256:<64 hex digits>"
    if f"sha256:{declared.lower().removeprefix('sha256:')}" != found:
        return f"digest mismatch: declared {declared}, the data has {found}"
    return None


@dataclass(frozen=True)
class Drift:
    status: str  # ok | drift | unpinned | unreachable
    differences: list[str]


def drift(recorded: Mapping[str, Any] | None, current: Mapping[str, Any]) -> Drift:
    """Compare a pin taken at registration with one taken now."""
    if not recorded or recorded.get("kind") in (None, "none"):
        return Drift("unpinned", [str((recorded or {}).get("note", "nothing was pinned"))])
    if current.get("kind") == "unreachable":
        return Drift("unreachable", [str(current.get("note", "cannot read the source"))])
    ignored = NOT_CONTENT
    if recorded.get("sha256") and recorded.get("sha256") == current.get("sha256"):
        ignored = ignored | {"mtime_ns"}  # touched, not changed: the digest proves it
    differences = [
        f"{key}: {recorded.get(key)!r} → {current.get(key)!r}"
        for key in sorted(set(recorded) | set(current))
        if key not in ignored
        and not (key in HASHED and key not in current)
        and recorded.get(key) != current.get(key)
    ]
    before, after = recorded.get("listing"), current.get("listing")
    if isinstance(before, dict) and isinstance(after, dict):
        added, removed, modified = diff(before, after)
        differences += [f"added {p}" for p in added[:20]]
        differences += [f"removed {p}" for p in removed[:20]]
        differences += [f"modified {p}" for p in modified[:20]]
    return Drift("drift" if differences else "ok", differences)
