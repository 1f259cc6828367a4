"""Which local paths external file:// data may come from: only under the declared roots."""

from collections.abc import Sequence
from pathlib import PurePath

ROOTS_SETTING = "BOXOPS_EXTERNAL_FILE_ROOTS"


def refusal(uri: str, resolved: PurePath, roots: Sequence[PurePath]) -> str | None:
    """Why `uri` (whose path resolves to `resolved`, links and '..' followed) may not be read,
    or None when it lies under one of the (resolved) roots."""
    if not roots:
        return f"{uri}: file:// data is not accepted here (no {ROOTS_SETTING} are declared)"
    if any(resolved == root or resolved.is_relative_to(root) for root in roots):
        return None
    listed = ", ".join(str(root) for root in roots)
    return f"{uri}: outside the external file roots ({listed})"
