"""Where an external dataset version lives: a URI checked without touching it."""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*$")
NEEDS_HOST = frozenset({"s3", "s3a", "gs", "gcs", "hdfs", "http", "https", "abfs", "abfss", "az"})


class UriError(ValueError):
    """Not a URI boxops can record; the message says why."""


@dataclass(frozen=True)
class Uri:
    text: str
    scheme: str
    host: str
    path: str


def parse_uri(text: str) -> Uri:
    """Check a URI such as s3://bucket/key, hdfs://nn/path, file:///data, https://host/x."""
    if not text or text != text.strip() or any(c.isspace() or ord(c) < 32 for c in text):
        raise UriError(f"{text!r} is not a URI: empty or holds whitespace")
    try:
        parts = urlsplit(text)
    except ValueError as err:
        raise UriError(f"{text!r} is not a URI: {err}") from None
    scheme = parts.scheme.lower()
    if not scheme or not SCHEME.match(scheme) or "://" not in text:
        raise UriError(f"{text!r} is not a URI: expected scheme://…, e.g. s3://bucket/key")
    if scheme in NEEDS_HOST and not parts.netloc:
        raise UriError(f"{text!r} is not a URI: {scheme}:// needs a bucket or host")
    if scheme == "file" and (parts.netloc not in ("", "localhost") or not parts.path):
        raise UriError(f"{text!r} is not a URI: file:// needs an absolute path (file:///data)")
    if not parts.netloc and not parts.path:
        raise UriError(f"{text!r} is not a URI: nothing after {scheme}://")
    return Uri(text=text, scheme=scheme, host=parts.netloc, path=parts.path)
