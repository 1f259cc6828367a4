"""Notifications a trigger sends: the message, its signature, and what follows an attempt.
Pure: no I/O; the time, the secret and the answer of the receiver come in as arguments.

The message text is rendered by the same bindings as a run's params and inputs, so a
notify target reads like any other (`{{ event.run_id }}`), its references are checked at
apply time like theirs, and a missing value is a skipped firing with the reason.
"""

import json
from dataclasses import dataclass
from typing import Any, Literal

from services.trigger.bindings import render
from shared.envelope import SPEC_VERSION, STRUCTURED
from shared.notify_specs import Notify

SIGNATURE = "X-Boxops-Signature-256"
DELIVERY = "X-Boxops-Delivery"
SLACK = "application/json"
Outcome = Literal["delivered", "retry", "failed"]
# Answers worth trying again: the receiver was slow, busy or broken for a while. Any other
# 4xx (a wrong URL, a refused signature) would fail the same way every time.
TRANSIENT = frozenset({408, 425, 429})


def message(notify: Notify, context: dict[str, Any], attributes: dict[str, str]) -> dict[str, Any]:
    """What is POSTed: `{"text": …}` for a chat, else the event as a structured CloudEvent.
    `attributes`: the CloudEvent's id, source, type and time. Raises MissingBinding."""
    if notify.text is not None:
        return {"text": str(render(notify.text, context))}
    data = context.get("event", context.get("events", context))
    return {
        "specversion": SPEC_VERSION,
        **attributes,
        "datacontenttype": "application/json",
        "data": data,
    }


def content_type(notify: Notify) -> str:
    return SLACK if notify.text is not None else STRUCTURED


def body(document: dict[str, Any]) -> bytes:
    """The bytes sent (and signed): the same at every attempt."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def delay(notify: Notify, failed: int) -> float:
    """Seconds to wait after the `failed`-th failed attempt: backoff, doubled each time."""
    return float(min(notify.max_backoff, notify.backoff * 2 ** (failed - 1)))


def schedule(notify: Notify) -> list[float]:
    """The waits between all attempts of a notification that keeps failing."""
    return [delay(notify, n) for n in range(1, notify.attempts)]


@dataclass(frozen=True)
class Answer:
    """What one attempt got: an HTTP status, or the error that stopped it."""

    status_code: int | None = None
    error: str = ""

    @property
    def reason(self) -> str:
        return self.error or f"HTTP {self.status_code}"


def outcome(notify: Notify, attempt: int, answer: Answer) -> Outcome:
    """Delivered on a 2xx; retried after a transient failure while attempts are left."""
    code = answer.status_code
    if code is not None and 200 <= code < 300:
        return "delivered"
    transient = code is None or code >= 500 or code in TRANSIENT
    return "retry" if transient and attempt < notify.attempts else "failed"
