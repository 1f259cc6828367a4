"""Output helpers shared by the CLI's commands."""

import json
import sys
from typing import Any


def print_json(value: Any) -> None:
    """Machine-readable output: plain JSON, never wrapped or coloured."""
    sys.stdout.write(json.dumps(value, indent=2) + "\n")
