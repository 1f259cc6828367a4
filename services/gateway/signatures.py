"""A generic hook's proof of origin, GitHub-style: `X-Hub-Signature-256: sha256=<hex>`,
the HMAC-SHA256 of the raw body under the hook's secret, compared in constant time; and
its freshness: a timestamp header within the replay window. Pure: no I/O.
"""

import hmac

from shared.body_signature import signature


def signed(secret: str, body: bytes, header: str | None) -> bool:
    """Does `header` sign `body` with `secret`? In constant time, whatever the header."""
    expected = signature(secret, body).encode()
    given = (header or "").strip().encode("latin-1", "replace")  # as HTTP carried it
    return hmac.compare_digest(expected, given)


def staleness(timestamp: str | None, now: float, window_s: float) -> str | None:
    """Why a delivery sent at `timestamp` (Unix seconds) is refused at `now`, or None:
    it is missing, no time, or further than the window from now (either way: clocks
    drift)."""
    if not timestamp:
        return "missing header X-Hook-Timestamp: the Unix time the delivery was sent"
    try:
        sent = float(timestamp)
    except ValueError:
        return f"X-Hook-Timestamp {timestamp[:40]!r} is no Unix time in seconds"
    if not abs(now - sent) <= window_s:  # also refuses NaN
        return f"X-Hook-Timestamp is {abs(now - sent):.0f} s from now: outside {window_s:.0f} s"
    return None
