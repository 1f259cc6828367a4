"""Importing a library without an optional part of it that boxops never uses.

Some libraries import an optional dependency whenever it is installed, even for features
boxops does not call; at every CLI start that is tens of milliseconds spent for nothing.
"""

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def without(*optional: str) -> Iterator[None]:
    """Imports in this block find the `optional` modules missing, as if not installed.

    None in sys.modules makes an import of that name fail; the marks go right after, so a
    later import of those modules in this process works. One already imported stays.
    """
    marked = [name for name in optional if name not in sys.modules]
    for name in marked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in marked:
            del sys.modules[name]
