"""Signed data-plane URLs: HMAC over method, path and expiry, like S3's presigned URLs.

Pure: the secret and the clock come in as arguments.
"""

import hashlib
import hmac
from urllib.parse import urlencode


def signature(secret: bytes, method: str, path: str, expires: int) -> str:
    message = f"{method}\n{path}\n{expires}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def signed_url(base: str, secret: bytes, method: str, path: str, *, expires: int) -> str:
    query = urlencode({"expires": expires, "signature": signature(secret, method, path, expires)})
    return f"{base}{path}?{query}"


def valid(
    secret: bytes, method: str, path: str, expires: str | None, given: str | None, *, now: float
) -> str | None:
    """None if the URL is good; otherwise why it is refused."""
    if not expires or not given:
        return "unsigned URL: ask the artifact service for one"
    try:
        until = int(expires)
    except ValueError:
        return "malformed expiry"
    if until < now:
        return "URL expired: ask the artifact service for a new one"
    if not hmac.compare_digest(signature(secret, method, path, until).encode(), given.encode()):
        return "bad signature"
    return None
