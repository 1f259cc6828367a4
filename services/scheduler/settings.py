from pydantic import Field

from shared.settings import BoxopsSettings


class SchedulerSettings(BoxopsSettings):
    relay_interval_s: float = Field(1.0, gt=0, description="Outbox relay period.")
    tick_s: float = Field(0.5, gt=0, description="Timeouts, lost executors, due retries.")
    registry_timeout_s: float = Field(5.0, gt=0, description="Wait for registry answers.")
