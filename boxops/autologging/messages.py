"""Autolog's messages: each said once a process, on stderr like the SDK's, and the guard that
keeps an error in recording from reaching the user's program."""

import sys
import threading
from collections.abc import Callable
from typing import Any

_said: set[str] = set()
_lock = threading.Lock()


def say_once(key: str, text: str) -> bool:
    """Print `boxops: <text>` unless a message with this key was printed already."""
    with _lock:
        if key in _said:
            return False
        _said.add(key)
    print(f"boxops: {text}", file=sys.stderr)
    return True


def safely(what: str, record: Callable[..., Any], *args: Any) -> None:
    """Run one recording step; an error in it is reported (once for each `what`), never raised."""
    try:
        record(*args)
    except Exception as err:  # autolog must never break the program it watches
        say_once(
            f"error:{what}",
            f"autolog did not record the {what}: {type(err).__name__}: {err} "
            "(the program goes on; said once)",
        )
