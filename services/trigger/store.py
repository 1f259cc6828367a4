"""Triggers, monitors, firings and their state in the database."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.trigger.tables import (
    AttemptRow,
    DeliveryRow,
    FiringRow,
    MonitorEventRow,
    MonitorPointRow,
    MonitorStateRow,
    ScheduleRow,
    SeenRow,
    TriggerRow,
)
from shared.runs import ACTIVE
from shared.trigger_specs import MonitorSpec, TriggerSpec

# "requested": fired, with no word from the scheduler yet; then the run's own state.
ACTIVE_RUN = ("requested", *sorted(ACTIVE))


async def last_change(session: AsyncSession) -> datetime | None:
    result = await session.exec(select(func.max(TriggerRow.updated_at)))
    return result.first()


async def rows(session: AsyncSession, kind: str) -> list[TriggerRow]:
    query = select(TriggerRow).where(TriggerRow.kind == kind).order_by(col(TriggerRow.name))
    return list((await session.exec(query)).all())


async def enabled_triggers(session: AsyncSession) -> list[TriggerSpec]:
    return [
        TriggerSpec.model_validate(row.spec)
        for row in await rows(session, "trigger")
        if row.enabled
    ]


async def enabled_monitors(session: AsyncSession) -> list[MonitorSpec]:
    return [
        MonitorSpec.model_validate(row.spec)
        for row in await rows(session, "monitor")
        if row.enabled
    ]


async def get(session: AsyncSession, name: str, kind: str) -> TriggerRow | None:
    row = await session.get(TriggerRow, name)
    return row if row is not None and row.kind == kind else None


async def seen(session: AsyncSession, trigger: str, since: datetime) -> dict[str, SeenRow]:
    query = select(SeenRow).where(SeenRow.trigger == trigger).where(col(SeenRow.at) >= since)
    return {row.condition: row for row in (await session.exec(query)).all()}


async def forget_seen(session: AsyncSession, trigger: str) -> None:
    await session.exec(delete(SeenRow).where(col(SeenRow.trigger) == trigger))


async def active_runs(session: AsyncSession, trigger: str) -> list[str]:
    query = (
        select(FiringRow.run_id)
        .where(FiringRow.trigger == trigger)
        .where(col(FiringRow.run_state).in_(ACTIVE_RUN))
        .order_by(col(FiringRow.at))
    )
    return [run_id for run_id in (await session.exec(query)).all() if run_id]


async def end_run(session: AsyncSession, run_id: str, state: str) -> str | None:
    """Record a run's end on the firing that started it, in one statement: the firing's
    trigger, or None if no trigger started the run or its end was recorded already."""
    statement = (
        update(FiringRow)
        .where(col(FiringRow.run_id) == run_id)
        .where(col(FiringRow.run_state).in_(ACTIVE_RUN))
        .values(run_state=state)
        .returning(col(FiringRow.trigger))
    )
    result = await session.exec(statement)
    return result.scalars().first()


async def all_active_runs(session: AsyncSession) -> list[str]:
    query = select(FiringRow.run_id).where(col(FiringRow.run_state).in_(ACTIVE_RUN))
    return [run_id for run_id in (await session.exec(query)).all() if run_id]


async def debounce_window(session: AsyncSession, trigger: str, at: datetime) -> FiringRow | None:
    """The debounce window (open, or closed and fired) that an event at `at` falls in."""
    query = (
        select(FiringRow)
        .where(FiringRow.trigger == trigger)
        .where(col(FiringRow.due_at).is_not(None))
        .where(col(FiringRow.due_at) >= at)
        .where(col(FiringRow.status).in_(["debounced", "fired", "queued"]))
        .order_by(col(FiringRow.due_at))
        .limit(1)
    )
    return (await session.exec(query)).first()


async def due_debounces(session: AsyncSession, at: datetime) -> list[FiringRow]:
    query = (
        select(FiringRow)
        .where(FiringRow.status == "debounced")
        .where(col(FiringRow.run_id).is_(None))  # a window that fired keeps its status
        .where(col(FiringRow.due_at) <= at)
    )
    return list((await session.exec(query)).all())


async def oldest_queued(session: AsyncSession, trigger: str) -> FiringRow | None:
    query = (
        select(FiringRow)
        .where(FiringRow.trigger == trigger)
        .where(FiringRow.status == "queued")
        .order_by(col(FiringRow.at))
        .limit(1)
    )
    return (await session.exec(query)).first()


async def history(session: AsyncSession, trigger: str, limit: int) -> list[FiringRow]:
    query = (
        select(FiringRow)
        .where(FiringRow.trigger == trigger)
        .order_by(col(FiringRow.at).desc())
        .limit(limit)
    )
    return list((await session.exec(query)).all())


async def last_tick(session: AsyncSession, trigger: str) -> ScheduleRow | None:
    return await session.get(ScheduleRow, trigger)


async def monitor_state(session: AsyncSession, monitor: str) -> dict[str, Any] | None:
    row = await session.get(MonitorStateRow, monitor)
    return row.state if row else None


async def monitor_history(session: AsyncSession, monitor: str, limit: int) -> list[MonitorEventRow]:
    query = (
        select(MonitorEventRow)
        .where(MonitorEventRow.monitor == monitor)
        .order_by(col(MonitorEventRow.at).desc())
        .limit(limit)
    )
    return list((await session.exec(query)).all())


async def monitor_points(session: AsyncSession, monitor: str, limit: int) -> list[MonitorPointRow]:
    """The newest `limit` points the monitor saw, oldest first."""
    query = (
        select(MonitorPointRow)
        .where(MonitorPointRow.monitor == monitor)
        .order_by(col(MonitorPointRow.at).desc())
        .limit(limit)
    )
    return list(reversed((await session.exec(query)).all()))


async def keep_points(session: AsyncSession, points: list[dict[str, Any]]) -> None:
    """Store the points monitors saw: one statement for a batch (not an object a point)."""
    if points:
        await session.exec(insert(MonitorPointRow), params=points)


async def forget_old_points(session: AsyncSession, monitor: str, keep: int) -> None:
    """Keep the newest `keep` points of a monitor (ties at the cut-off time stay)."""
    cutoff = (
        select(MonitorPointRow.at)
        .where(MonitorPointRow.monitor == monitor)
        .order_by(col(MonitorPointRow.at).desc())
        .offset(keep - 1)  # the oldest point kept
        .limit(1)
        .scalar_subquery()
    )
    await session.exec(
        delete(MonitorPointRow)
        .where(col(MonitorPointRow.monitor) == monitor)
        .where(col(MonitorPointRow.at) < cutoff)
    )


async def claim_deliveries(
    session: AsyncSession, at: datetime, lease: Callable[[DeliveryRow], timedelta], limit: int
) -> list[DeliveryRow]:
    """Pending deliveries due at `at`, each leased to this replica until `at + lease(row)`:
    another replica skips them, and one this replica did not finish (a crash, a stop
    mid-attempt) is due again when its lease ends."""
    query = (
        select(DeliveryRow)
        .where(DeliveryRow.state == "pending")
        .where(col(DeliveryRow.due_at) <= at)
        .order_by(col(DeliveryRow.due_at))
        .limit(limit)
    )
    claimed = []
    for row in (await session.exec(query)).all():
        # Only if no replica leased it since it was read: two claims cannot both match.
        taken = await session.exec(
            update(DeliveryRow)
            .where(col(DeliveryRow.id) == row.id)
            .where(col(DeliveryRow.due_at) == row.due_at)
            .values(due_at=at + lease(row))
        )
        if taken.rowcount:
            claimed.append(row)
    return claimed


async def undead_lettered(session: AsyncSession) -> list[DeliveryRow]:
    """Deliveries that failed for good and are not yet in the dead-letter stream."""
    query = (
        select(DeliveryRow)
        .where(DeliveryRow.state == "failed")
        .where(col(DeliveryRow.dead_lettered).is_(False))
    )
    return list((await session.exec(query)).all())


async def attempts(session: AsyncSession, deliveries: list[str]) -> dict[str, list[AttemptRow]]:
    """The attempts of each delivery, in order."""
    query = (
        select(AttemptRow)
        .where(col(AttemptRow.delivery).in_(deliveries))
        .order_by(col(AttemptRow.attempt))
    )
    found: dict[str, list[AttemptRow]] = {}
    for row in (await session.exec(query)).all():
        found.setdefault(row.delivery, []).append(row)
    return found


async def deliveries(session: AsyncSession, ids: list[str]) -> dict[str, DeliveryRow]:
    query = select(DeliveryRow).where(col(DeliveryRow.id).in_(ids))
    return {row.id: row for row in (await session.exec(query)).all()}
