"""A run's states, spelled once: the services, the HTTP API and the clients all use these.

The public vocabulary is `RunState`; `RunSubstate` names the finer steps the scheduler
records under it. Both are `StrEnum`s, so on the wire and in JSON they are the plain strings.
"""

import re
from enum import StrEnum

# The ids the gateway gives runs (`shared.bus.new_id`): 32 lower-case hex digits.
RUN_ID = re.compile(r"[0-9a-f]{32}")


class RunState(StrEnum):
    """pending → running → completed | failed | aborted."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    ABORTED = "aborted"


class RunSubstate(StrEnum):
    """Recorded under a public state; an open set on the wire (consumers must accept others)."""

    QUEUED = "queued"  # pending: waiting to be placed
    DISPATCHED = "dispatched"  # pending: placed on an executor, not started yet
    RETRYING = "retrying"  # pending: waiting for its next attempt
    REJECTED = "rejected"  # failed: the request could not run
    SKIPPED = "skipped"  # aborted: a pipeline step that will not run
    CACHED = "cached"  # completed: outputs taken from an earlier identical run


# Why a run ended whose executor was restarted (killed, crashed) while it ran.
LOST_ON_RESTART = "the executor restarted and lost the run"

TERMINAL = frozenset({RunState.COMPLETED, RunState.FAILED, RunState.ABORTED})
ACTIVE = frozenset({RunState.PENDING, RunState.RUNNING})


def could_be_run_id(text: str) -> bool:
    """Whether `text` has the shape of the ids the gateway issues to runs."""
    return RUN_ID.fullmatch(text) is not None
