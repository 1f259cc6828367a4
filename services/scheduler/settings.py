from shared.settings import BoxopsSettings


class SchedulerSettings(BoxopsSettings):
    relay_interval_s: float = 1.0
