import os
import re
import socket

from pydantic import Field, field_validator

from shared.settings import BoxopsSettings


class ExecutorSettings(BoxopsSettings):
    executor_id: str = Field(default_factory=socket.gethostname, description="Unique per machine.")
    slots: int = Field(default_factory=lambda: max(2, 2 * (os.cpu_count() or 1)), ge=1)
    heartbeat_s: float = 1.0
    stop_grace_s: float = 10.0
    log_flush_s: float = 0.05

    @field_validator("executor_id")
    @classmethod
    def _subject_token(cls, value: str) -> str:
        # The id is a NATS subject token (run.dispatched.<id>): no dots, spaces or wildcards.
        token = re.sub(r"[^A-Za-z0-9_-]", "-", value).strip("-")
        if not token:
            raise ValueError(f"executor id {value!r} has no usable characters")
        return token
