"""boxops: the user's side — CLI, HTTP client, embedded stack (and, later, the SDK)."""

__version__ = "0.1.0"
