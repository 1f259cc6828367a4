"""CloudEvents 1.0 envelopes: binary mode over NATS headers, structured JSON, or a bare body.

Pure: no I/O; ids and time come in as arguments.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from shared.events import Event

E = TypeVar("E", bound=Event)

SPEC_VERSION = "1.0"
STRUCTURED = "application/cloudevents+json"
TYPE_PREFIX = "dev.boxops."


class EnvelopeError(ValueError):
    """The message cannot be parsed or validated; the text says why."""


@dataclass(frozen=True)
class Envelope(Generic[E]):
    id: str
    source: str
    time: datetime
    data: E
    traceparent: str | None = None
    causation_depth: int = 0
    subject: str = ""  # the NATS subject it arrived on, when it arrived

    @property
    def type(self) -> str:
        return TYPE_PREFIX + (self.subject or self.data.subject)


def headers_for(envelope: Envelope[Any]) -> dict[str, str]:
    """Binary-mode CloudEvent headers; `Nats-Msg-Id` makes JetStream drop duplicates."""
    headers = {
        "ce-specversion": SPEC_VERSION,
        "ce-id": envelope.id,
        "ce-source": envelope.source,
        "ce-type": envelope.type,
        "ce-time": envelope.time.isoformat(),
        "content-type": "application/json",
        "Nats-Msg-Id": envelope.id,
    }
    if envelope.causation_depth:
        headers["ce-boxopsdepth"] = str(envelope.causation_depth)
    return headers


def body_for(envelope: Envelope[Any]) -> bytes:
    return envelope.data.model_dump_json(exclude_none=True).encode()


def parse(
    model: type[E],
    headers: Mapping[str, str] | None,
    body: bytes,
    *,
    new_id: str,
    now: datetime,
    subject: str = "",
) -> Envelope[E]:
    """Read a message in any of the three accepted shapes into a validated envelope."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    if "ce-specversion" in headers:
        attributes = {k[3:]: v for k, v in headers.items() if k.startswith("ce-")}
        return _envelope(attributes, _from_bytes(model, body), headers, new_id, now, subject)
    document = _json(body)
    if _is_structured(headers, document):
        attributes = {k: v for k, v in document.items() if k not in ("data", "data_base64")}
        data = document.get("data", {})
    else:
        attributes = {"id": headers.get("nats-msg-id") or new_id, "source": "external"}
        data = document
    return _envelope(attributes, _validate(model, data), headers, new_id, now, subject)


def _envelope(
    attributes: Mapping[str, Any],
    data: E,
    headers: Mapping[str, str],
    new_id: str,
    now: datetime,
    subject: str,
) -> Envelope[E]:
    return Envelope(
        id=str(attributes.get("id") or new_id),
        source=str(attributes.get("source") or "external"),
        time=_time(attributes.get("time"), now),
        data=data,
        traceparent=headers.get("traceparent"),
        causation_depth=_depth(attributes.get("boxopsdepth")),
        subject=subject,
    )


def _from_bytes(model: type[E], body: bytes) -> E:
    """Parsed and validated in one pass (metric batches are thousands of points); when that
    fails, the two-step path says what is wrong, as for the other shapes."""
    try:
        return model.model_validate_json(body)
    except ValidationError:
        return _validate(model, _json(body))


def _json(body: bytes) -> Any:
    if not body.strip():
        raise EnvelopeError("empty body: expected a JSON object")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise EnvelopeError(f"body is not JSON: {err}") from None


def _is_structured(headers: Mapping[str, str], document: Any) -> bool:
    if headers.get("content-type", "").startswith(STRUCTURED):
        if not isinstance(document, dict):
            kind = type(document).__name__
            raise EnvelopeError(f"a structured CloudEvent must be a JSON object, got {kind}")
        return True
    return isinstance(document, dict) and "specversion" in document and "data" in document


def _validate(model: type[E], data: Any) -> E:
    if not isinstance(data, dict):
        raise EnvelopeError(f"data must be a JSON object, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise EnvelopeError(describe(err, model.subject)) from None


def describe(err: ValidationError, subject: str) -> str:
    """One line per problem, naming the field: `run.requested: command: Field required`."""
    problems = []
    for error in err.errors():
        field = ".".join(str(p) for p in error["loc"]) or "(body)"
        problems.append(f"{field}: {error['msg']}")
    return f"{subject}: " + "; ".join(problems)


def _time(value: Any, now: datetime) -> datetime:
    if not value:
        return now
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise EnvelopeError(f"time is not an RFC 3339 timestamp: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _depth(value: Any) -> int:
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        raise EnvelopeError(f"boxopsdepth is not an integer: {value!r}") from None
