"""GitHub-style signature of a raw HTTP body: `sha256=` and the hex HMAC-SHA256 under a
shared secret. A hook's sender signs with it (checked by the gateway); a trigger's notify
target signs what it sends. Pure."""

import hashlib
import hmac

PREFIX = "sha256="


def signature(secret: str, body: bytes) -> str:
    """The header value that signs `body` with `secret`."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
