"""Asking the artifact service which blobs it still holds (its `exists` query over NATS)."""

from collections.abc import Sequence

from faststream.nats import NatsBroker
from nats.errors import NoRespondersError

from shared.artifacts import EXISTS, DigestsQuery
from shared.queries import Reply

ASKED_AT_ONCE = 10_000  # the most one exists query takes


class Unanswered(Exception):
    """The artifact service did not answer, or refused: nothing is known about the blobs."""


async def missing(broker: NatsBroker, digests: Sequence[str], timeout_s: float) -> list[str]:
    """The digests the artifact store does not hold."""
    wanted = sorted(set(digests))
    absent: list[str] = []
    for start in range(0, len(wanted), ASKED_AT_ONCE):
        query = DigestsQuery(sha256=wanted[start : start + ASKED_AT_ONCE])
        try:
            message = await broker.request(query, EXISTS, timeout=timeout_s)
        except (TimeoutError, NoRespondersError):
            raise Unanswered(f"the artifact service did not answer within {timeout_s}s") from None
        reply = Reply.model_validate(await message.decode())
        if not reply.ok:
            raise Unanswered(f"the artifact service refused: {reply.error}")
        absent += reply.result["missing"]
    return absent
