"""A bus identity's credentials file, read without pydantic-settings.

`boxops status` reads the operator's at each start; BoxopsSettings reads a service's.
"""

from pathlib import Path

from dotenv import dotenv_values


def nats_login(path: Path) -> dict[str, str]:
    """User, password and reply inbox from a credentials file (KEY=value lines)."""
    if not path.is_file():
        raise ValueError(f"BOXOPS_NATS_CREDENTIALS: no such file {path}")
    values = dotenv_values(path)
    missing = [k for k in ("NATS_USER", "NATS_PASSWORD") if not values.get(k)]
    if missing:
        raise ValueError(f"BOXOPS_NATS_CREDENTIALS: {path} lacks {', '.join(missing)}")
    login = {"user": str(values["NATS_USER"]), "password": str(values["NATS_PASSWORD"])}
    if values.get("NATS_INBOX_PREFIX"):
        login["inbox_prefix"] = str(values["NATS_INBOX_PREFIX"])
    return login
