from pydantic import Field

from shared.settings import BoxopsSettings


class TunerSettings(BoxopsSettings):
    tick_s: float = Field(1.0, gt=0, description="How often sweeps' timeouts are checked.")
    relay_interval_s: float = Field(1.0, gt=0, description="Outbox relay period.")
