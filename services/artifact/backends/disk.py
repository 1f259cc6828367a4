"""What a full or read-only disk under the file store means to a client: 507 or 503,
never a fault (the data plane would answer that with a bare 500)."""

import contextlib
import errno
import shutil
from collections.abc import Iterator
from pathlib import Path

from services.artifact.domain import store_full, store_read_only

FULL = (errno.ENOSPC, errno.EDQUOT)


@contextlib.contextmanager
def disk_errors(root: Path) -> Iterator[None]:
    """Turn the disk's "no space" and "read-only" into refusals naming them."""
    try:
        yield
    except OSError as err:
        if err.errno in FULL:
            usage = shutil.disk_usage(root)
            raise store_full(usage.free, usage.total) from None
        if err.errno == errno.EROFS:
            raise store_read_only() from None
        raise
