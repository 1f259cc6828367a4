"""Run-scoped tokens: what the executor gives a black box so its SDK may write to that run
only, until the token expires. `run.<run id>.<expiry>.<HMAC of both>`, with a secret the
executor and the gateway share: the gateway reads the run and the expiry from the token
itself, so a token not made with the secret is unknown (401) wherever it is sent, and a
valid one sent for another run is refused (403)."""

import hashlib
import hmac

PREFIX = "run."
# Past a run's timeout its token lives this much longer: the run is being stopped and its
# SDK may still flush what it buffered.
GRACE_S = 3600


def run_token(secret: str, run_id: str, expires: int) -> str:
    """A token for `run_id`, valid until `expires` (Unix seconds)."""
    return f"{PREFIX}{run_id}.{expires}.{_digest(secret, run_id, expires)}"


def expiry(started: float, timeout_s: float | None, max_s: float) -> int:
    """When a run's token expires: after the run's timeout and a grace, never later than
    `max_s` after its start."""
    lifetime = max_s if timeout_s is None else min(max_s, timeout_s + GRACE_S)
    return int(started + lifetime)


def run_of(secret: str, token: str, at: float) -> str | None:
    """The run `token` was made for with `secret` if it has not expired at `at`; else None
    (never with an empty secret)."""
    signed = token.removeprefix(PREFIX).rpartition(".")[0]
    run_id, _, expires = signed.rpartition(".")
    if not (secret and token.startswith(PREFIX) and run_id):
        return None
    if not (expires.isascii() and expires.isdigit()) or int(expires) <= at:
        return None
    # As bytes: compare_digest refuses str with non-ASCII characters (a header may have them).
    made = run_token(secret, run_id, int(expires))
    return run_id if hmac.compare_digest(made.encode(), token.encode()) else None


def _digest(secret: str, run_id: str, expires: int) -> str:
    message = f"{run_id}.{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
