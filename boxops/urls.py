"""Paths of the gateway's API, built from segments that may hold anything a user typed."""

from urllib.parse import quote


def api_path(*segments: object) -> str:
    """`/v1/…` with each segment percent-encoded, so a name holding `/`, `..` or `?` stays
    one segment — the gateway refuses it by name — instead of becoming another path."""
    return "/v1/" + "/".join(_segment(str(segment)) for segment in segments)


def _segment(text: str) -> str:
    quoted = quote(text, safe="")
    # `.` and `..` are left as they are by quote(), and a client resolves them away.
    return quoted.replace(".", "%2E") if quoted in (".", "..") else quoted
