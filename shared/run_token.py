"""Run-scoped tokens: what the executor gives a black box so its SDK may write to that run
only. An HMAC of the run id with a secret the executor and the gateway share."""

import hashlib
import hmac

PREFIX = "run."


def run_token(secret: str, run_id: str) -> str:
    digest = hmac.new(secret.encode(), run_id.encode(), hashlib.sha256).hexdigest()
    return f"{PREFIX}{digest}"


def valid(secret: str, run_id: str, token: str) -> bool:
    """True if `token` was made for `run_id` with `secret` (never with an empty secret)."""
    # As bytes: compare_digest refuses str with non-ASCII characters (a header may have them).
    return bool(secret) and hmac.compare_digest(run_token(secret, run_id).encode(), token.encode())
