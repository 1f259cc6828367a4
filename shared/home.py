"""BOXOPS_HOME, where boxops keeps its state, read without pydantic-settings.

`BoxopsSettings.home` is read through these functions too; the CLI calls `home()` alone,
which spares each command the import of pydantic-settings (a tenth of a second).
"""

import os
from pathlib import Path

DEFAULT_HOME = Path.home() / ".boxops"


def absolute(home: Path) -> Path:
    return home.expanduser().resolve()


def home() -> Path:
    """BOXOPS_HOME made absolute, else ~/.boxops: what `BoxopsSettings().home` holds."""
    return absolute(Path(os.environ.get("BOXOPS_HOME", DEFAULT_HOME)))
