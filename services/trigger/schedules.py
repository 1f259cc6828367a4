"""Cron ticks as UTC instants, and what to fire after a gap. Pure.

A tick is keyed by its UTC instant, so two replicas and a restarted service agree on what a
tick is; a fixed-hour job in the repeated hour of a daylight-saving fall-back runs once.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from shared.trigger_specs import Schedule


def ticks_between(schedule: Schedule, after: datetime, until: datetime) -> list[datetime]:
    """Ticks t with after < t <= until, in UTC, within the schedule's start/end."""
    zone = ZoneInfo(schedule.timezone)
    start = (
        max(after, _utc(schedule.start) - timedelta(microseconds=1)) if schedule.start else after
    )
    iterator = croniter(schedule.cron, start.astimezone(zone))
    ticks: list[datetime] = []
    while True:
        tick = iterator.get_next(datetime).astimezone(UTC)
        if tick > until or (schedule.end and tick > _utc(schedule.end)):
            return ticks
        if _repeated_wall_time(schedule, tick.astimezone(zone)):
            continue
        if not ticks or tick > ticks[-1]:
            ticks.append(tick)
        if len(ticks) > 100_000:
            return ticks


def due(schedule: Schedule, last: datetime | None, now: datetime) -> tuple[list[datetime], int]:
    """Ticks to fire now, and how many missed ones the catch-up policy drops.

    The first time a schedule is seen it starts from now: nothing before it was missed.
    """
    if last is None:
        return [], 0
    ticks = ticks_between(schedule, last, now)
    if len(ticks) <= 1:
        return ticks, 0
    if schedule.catchup == "latest":
        return ticks[-1:], len(ticks) - 1
    if schedule.catchup == "all":
        kept = ticks[-schedule.max_catchup :]
        return kept, len(ticks) - len(kept)
    # none: only a tick that is due right now fires; the ones missed while down do not
    current = ticks[-1:] if _on_time(ticks[-1], now) else []
    return current, len(ticks) - len(current)


def _repeated_wall_time(schedule: Schedule, local: datetime) -> bool:
    """The second pass through a fall-back hour (fold=1) repeats wall-clock times: a job
    at fixed hours ran at the first pass already. Jobs every hour run in both passes."""
    return local.fold == 1 and schedule.cron.split()[1] != "*"


def _on_time(tick: datetime, now: datetime) -> bool:
    return now - tick < timedelta(seconds=30)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
