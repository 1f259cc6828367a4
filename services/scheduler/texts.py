"""What free text finds a run by: its component, pipeline, reason and command, as one
lowercased text (so any case matches, with a plain LIKE on either database)."""

from collections.abc import Sequence
from typing import Any


def searchable(text: str) -> str:
    return text.lower()


def run_text(run: Any) -> str:
    """Of a Run or a RunRow: whichever holds the four fields."""
    command: Sequence[str] = run.command
    parts = (run.component or "", run.pipeline or "", run.reason, " ".join(command))
    return searchable("\n".join(parts))
