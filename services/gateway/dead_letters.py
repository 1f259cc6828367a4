"""The dead letters as people see them: listed, shown, and replayed once a fix landed.

An entry's id is its sequence in the DLQ stream. A replay republishes the message on its
original subject with its own headers (so its consumers re-validate it like any message,
and those that took it the first time drop it by its event id), then deletes the entry.
Twice the same entry cannot go out: the republished copy's Nats-Msg-Id is derived from
the entry, so JetStream drops a second replay racing the first, and once the entry is
deleted a later replay of it is refused as unknown.

The gateway republishes only what its own bus identity may publish (the commands it serves
and public subjects): replaying `run.completed` would be the gateway forging the
scheduler's event, which the bus's permissions exist to prevent.
"""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from nats.aio.msg import Msg
from nats.js.api import RawStreamMsg
from pydantic import BaseModel, Field

from shared.bus import DEAD_LETTERS, DLQ_PREFIX, REASON, REJECTED_BY
from shared.durations import seconds
from shared.events import RunAbortRequested, RunRequested, is_public
from shared.nats_adapter import NatsAdapter

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
OWN_HEADERS = frozenset({REASON, REJECTED_BY})


class DeadLetter(BaseModel):
    """One message a consumer could not take, with why."""

    id: int = Field(description="Its number in the dead-letter stream.")
    subject: str = Field(description="The subject it was published on.")
    reason: str = Field(description="Why it was dead-lettered.")
    consumer: str = Field(description="The service that dead-lettered it.")
    at: datetime = Field(description="When it was dead-lettered.")
    headers: dict[str, str] = Field(description="Its own headers, as it came.")
    data: Any = Field(description="Its body: JSON if it parses, else the text.")


class Replayed(BaseModel):
    """A dead letter put back on its subject."""

    id: int = Field(description="The dead letter's number (it is gone from the DLQ now).")
    subject: str = Field(description="The subject it was published on again.")
    stream: str = Field(description="The stream that keeps it now.")
    seq: int = Field(description="Its number in that stream.")
    duplicate: bool = Field(description="True if this entry had been replayed already.")


class Unknown(LookupError):
    """No such dead letter: never there, expired, or replayed already."""


class NotReplayable(PermissionError):
    """A dead letter of a subject only another service may publish."""


# What a replay may put back: the commands the gateway serves and public subjects; never
# another service's event, nor anything of the bus's own (JetStream API, requests, DLQ),
# whatever a dead letter's subject says (any service may dead-letter any subject).
COMMANDS = frozenset({RunRequested.subject, RunAbortRequested.subject})
HOOKS = "hooks."  # a hook's refused bodies (hook_intake.py)


def replayable(subject: str) -> bool:
    return subject in COMMANDS or is_public(subject)


def check_replayable(subjects: set[str]) -> None:
    refused = sorted(s for s in subjects if not replayable(s))
    hooks = [s for s in refused if s.startswith(HOOKS)]
    if hooks:
        raise NotReplayable(
            f"not replayed: {', '.join(hooks)} keeps bodies a hook refused as their sender "
            "sent them; fix the sender (the reason says what), it sends again"
        )
    if refused:
        raise NotReplayable(
            f"not replayed: only the service that owns {', '.join(refused)} publishes it; the"
            " gateway replays the commands it serves (run.requested, run.abort.requested)"
            " and public subjects"
        )


def since_of(text: str | None, now: datetime) -> datetime:
    """`2026-12-01T10:00:00Z`, or a period back from now such as `24h`; none: all."""
    if not text:
        return EPOCH
    try:
        return now - timedelta(seconds=seconds(text))
    except ValueError:
        pass
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is neither an ISO time nor a period such as 24h") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def letter(
    seq: int, subject: str, headers: dict[str, str], body: bytes, at: datetime
) -> DeadLetter:
    lower = {k.lower(): v for k, v in headers.items()}
    return DeadLetter(
        id=seq,
        subject=subject.removeprefix(DLQ_PREFIX),
        reason=lower.get(REASON, ""),
        consumer=lower.get(REJECTED_BY, ""),
        at=at,
        headers={k: v for k, v in headers.items() if _its_own(k.lower())},
        data=_data(body),
    )


def _its_own(header: str) -> bool:
    """Not the DLQ's nor JetStream's (Nats-Msg-Id, Nats-Expected-Stream…): the message's."""
    return header not in OWN_HEADERS and not header.startswith("nats-")


def _data(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body.decode(errors="replace")


def _from_consumer(msg: Msg) -> DeadLetter:
    return letter(
        msg.metadata.sequence.stream,
        msg.subject,
        dict(msg.headers or {}),
        msg.data,
        msg.metadata.timestamp,
    )


def _from_stream(raw: RawStreamMsg) -> DeadLetter:
    return letter(
        raw.seq or 0, raw.subject or "", dict(raw.headers or {}), raw.data or b"", _at(raw)
    )


def _at(raw: RawStreamMsg) -> datetime:
    return (raw.time or EPOCH).astimezone(UTC)


async def listing(
    nats: NatsAdapter, *, subject: str | None, since: datetime, limit: int
) -> list[DeadLetter]:
    """Dead letters of `subject` (every subject if None) since `since`, oldest first."""
    wanted = DLQ_PREFIX + (subject or ">")

    def read(msg: Msg) -> DeadLetter | None:
        # A start time past the last message starts the consumer at the stream's end.
        entry = _from_consumer(msg)
        return entry if entry.at >= since else None

    return await nats.replay(DEAD_LETTERS.name, wanted, since, read, limit)


async def _stored(nats: NatsAdapter, id: int) -> RawStreamMsg:
    raw = await nats.stored(DEAD_LETTERS.name, id)
    if raw is None:
        raise Unknown(f"no dead letter {id}: never there, expired, or replayed already")
    return raw


async def show(nats: NatsAdapter, id: int) -> DeadLetter:
    return _from_stream(await _stored(nats, id))


async def replay(nats: NatsAdapter, id: int) -> Replayed:
    """Publish the entry again on its subject, then drop it from the DLQ."""
    raw = await _stored(nats, id)
    entry = _from_stream(raw)
    check_replayable({entry.subject})
    headers = {**entry.headers, "Nats-Msg-Id": f"replay:{DEAD_LETTERS.name}.{id}"}
    stored = await nats.publish(entry.subject, raw.data or b"", headers)
    await nats.delete(DEAD_LETTERS.name, id)
    return Replayed(
        id=id,
        subject=entry.subject,
        stream=stored.stream,
        seq=stored.seq,
        duplicate=stored.duplicate,
    )


async def replay_subject(nats: NatsAdapter, subject: str, *, limit: int) -> list[Replayed]:
    """Replay every dead letter of `subject`, oldest first (at most `limit` at once)."""
    entries = await listing(nats, subject=subject, since=EPOCH, limit=limit)
    check_replayable({entry.subject for entry in entries})  # all or none
    done = []
    for entry in entries:
        try:
            done.append(await replay(nats, entry.id))
        except Unknown:
            continue  # replayed by another request meanwhile: not sent twice
    return done
