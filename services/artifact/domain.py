"""Pure rules of the artifact service: uploads, their parts, what a commit must show.

No I/O: time and ids come in as arguments.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.artifacts import BlobSpec, PartDone


class Refused(Exception):
    """A request the service turns down; `status` is HTTP-like, the text names the problem."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Unavailable(Refused):
    """A store (S3) did not answer after bounded retries; the caller may try again."""

    def __init__(self, message: str) -> None:
        super().__init__(503, message)


def store_full(free_bytes: int, total_bytes: int) -> Refused:
    """507: the store has no room for these bytes (Insufficient Storage)."""
    return Refused(507, f"blob store full ({_mib(free_bytes)} free of {_mib(total_bytes)})")


def store_read_only() -> Refused:
    return Unavailable("blob store read-only")


def _mib(size: int) -> str:
    return f"{size / 1024**2:.1f} MiB"


@dataclass(frozen=True)
class Upload:
    id: str
    size: int
    sha256: str | None
    name: str | None
    media_type: str | None
    part_bytes: int
    created_at: datetime
    expires_at: datetime
    multipart_id: str | None = None


@dataclass(frozen=True)
class Part:
    number: int
    offset: int
    size: int


def new_upload(
    spec: BlobSpec, *, id: str, now: datetime, ttl_s: float, limit: int, part_bytes: int
) -> Upload:
    if spec.size > limit:
        raise Refused(413, f"blob of {spec.size} bytes is over the limit of {limit} bytes")
    return Upload(
        id=id,
        size=spec.size,
        sha256=spec.sha256,
        name=spec.name,
        media_type=spec.media_type,
        part_bytes=part_bytes,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_s),
    )


MAX_PARTS = 500  # keeps the list of presigned part URLs well inside one NATS message
MiB = 1024**2


def part_size(size: int, preferred: int) -> int:
    """The preferred part size, grown (in whole MiB) so a blob needs at most MAX_PARTS."""
    needed = -(-size // MAX_PARTS)
    return max(preferred, -(-needed // MiB) * MiB)


def parts(size: int, part_bytes: int) -> list[Part]:
    """Consecutive parts of at most part_bytes covering `size` bytes (one part if empty)."""
    count = max(1, -(-size // part_bytes))
    return [
        Part(n + 1, n * part_bytes, min(part_bytes, size - n * part_bytes)) for n in range(count)
    ]


def declared_digest(upload: Upload, given: str | None) -> str:
    """The digest the client stands by: declared at reserve, at commit, or both alike."""
    if upload.sha256 and given and upload.sha256 != given:
        raise Refused(
            400, f"commit names sha256 {given} but the upload was reserved for {upload.sha256}"
        )
    digest = upload.sha256 or given
    if not digest:
        raise Refused(400, "sha256 missing: declare it at reserve or at commit")
    return digest


def check_received(declared: str, size: int, received: str, received_size: int) -> None:
    """Refuse bytes that are not what the client declared."""
    if received_size != size:
        problem = "truncated" if received_size < size else "longer than declared"
        raise Refused(400, f"body {problem}: received {received_size} of {size} bytes")
    if received != declared:
        raise Refused(
            400, f"sha256 mismatch: declared {declared}, received bytes hash to {received}"
        )


def check_parts(done: list[PartDone], expected: list[Part]) -> list[PartDone]:
    """Every part, once, in order: S3 would otherwise assemble a different blob."""
    numbers = sorted(p.number for p in done)
    wanted = [p.number for p in expected]
    if numbers != wanted:
        raise Refused(
            400, f"commit lists parts {numbers[:20]}; the upload has parts 1..{len(wanted)}"
        )
    return sorted(done, key=lambda p: p.number)


def expired(upload: Upload, now: datetime) -> bool:
    return upload.expires_at <= now
