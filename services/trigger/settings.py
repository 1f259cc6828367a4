from pydantic import Field

from shared.settings import BoxopsSettings


class TriggerSettings(BoxopsSettings):
    tick_s: float = Field(0.5, gt=0, description="Schedules, debounces and `for` checks.")
    relay_interval_s: float = Field(1.0, gt=0, description="Outbox relay period.")
    notify_poll_s: float = Field(
        0.5, gt=0, description="How often notifications due for an attempt are looked for."
    )
