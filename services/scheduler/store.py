"""Runs in the database: loading, saving with their transitions, queries."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scheduler.domain import Run, RunState, Transition
from services.scheduler.tables import RunRow, TransitionRow
from shared.events import Cause, Resources


def to_domain(row: RunRow, history: Sequence[TransitionRow] = ()) -> Run:
    return Run(
        id=row.id,
        command=tuple(row.command),
        created_at=row.created_at,
        env=dict(row.env),
        resources=Resources.model_validate(row.resources),
        priority=row.priority,
        cause=Cause.model_validate(row.cause),
        state=RunState(row.state),
        substate=row.substate,
        executor_id=row.executor_id,
        exit_code=row.exit_code,
        error=row.error,
        history=tuple(Transition(RunState(t.state), t.substate, t.at, t.reason) for t in history),
    )


async def load(session: AsyncSession, run_id: str) -> Run | None:
    """The run without its history: whatever history a domain step adds is new."""
    row = await session.get(RunRow, run_id)
    return to_domain(row) if row else None


async def load_with_history(session: AsyncSession, run_id: str) -> Run | None:
    row = await session.get(RunRow, run_id)
    if row is None:
        return None
    query = (
        select(TransitionRow).where(TransitionRow.run_id == run_id).order_by(col(TransitionRow.id))
    )
    return to_domain(row, (await session.exec(query)).all())


async def save(session: AsyncSession, run: Run, *, now: datetime) -> None:
    """Upsert the run and insert its (new) history entries, in the caller's transaction."""
    row = await session.get(RunRow, run.id)
    if row is None:
        row = RunRow(
            id=run.id,
            state=run.state.value,
            command=list(run.command),
            env=run.env,
            resources=run.resources.model_dump(),
            priority=run.priority,
            cause=run.cause.model_dump(mode="json", exclude_none=True),
            created_at=run.created_at,
            updated_at=now,
        )
    row.state = run.state.value
    row.substate = run.substate
    row.executor_id = run.executor_id
    row.exit_code = run.exit_code
    row.error = run.error
    row.updated_at = now
    session.add(row)
    for step in run.history:
        session.add(
            TransitionRow(
                run_id=run.id,
                state=step.state.value,
                substate=step.substate,
                at=step.at,
                reason=step.reason,
            )
        )


async def queued(session: AsyncSession) -> list[Run]:
    query = (
        select(RunRow)
        .where(RunRow.state == RunState.PENDING.value)
        .where(RunRow.substate == "queued")
    )
    return [to_domain(row) for row in (await session.exec(query)).all()]


async def busy_by_executor(session: AsyncSession) -> dict[str, int]:
    """Runs dispatched to or running on each executor."""
    query = (
        select(RunRow.executor_id, func.count())
        .where(col(RunRow.state).in_([RunState.PENDING.value, RunState.RUNNING.value]))
        .where(col(RunRow.executor_id).is_not(None))
        .group_by(col(RunRow.executor_id))
    )
    return {executor: count for executor, count in (await session.exec(query)).all() if executor}


async def listing(
    session: AsyncSession, *, state: str | None, limit: int, before: datetime | None
) -> list[Run]:
    query = select(RunRow).order_by(col(RunRow.created_at).desc()).limit(limit)
    if state:
        query = query.where(RunRow.state == state)
    if before:
        query = query.where(col(RunRow.created_at) < before)
    return [to_domain(row) for row in (await session.exec(query)).all()]
