"""The tuner's queries: studies and their trials."""

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.tuner.domain import Counts
from services.tuner.tables import StudyRow, TrialRow

SEARCHING = "searching"
ENDED = "ended"
RUNNING = ("running", "pruning")


async def study(session: AsyncSession, run_id: str) -> StudyRow | None:
    return await session.get(StudyRow, run_id)


async def trial(session: AsyncSession, run_id: str) -> TrialRow | None:
    return await session.get(TrialRow, run_id)


async def trials(session: AsyncSession, study_id: str) -> list[TrialRow]:
    query = select(TrialRow).where(TrialRow.study_id == study_id).order_by(col(TrialRow.number))
    return list((await session.exec(query)).all())


async def searching(session: AsyncSession) -> list[StudyRow]:
    return list((await session.exec(select(StudyRow).where(StudyRow.state == SEARCHING))).all())


async def running_trials(session: AsyncSession) -> list[TrialRow]:
    query = select(TrialRow).where(col(TrialRow.state).in_(RUNNING))
    return list((await session.exec(query)).all())


def counts(rows: list[TrialRow]) -> Counts:
    states = [row.state for row in rows]
    return Counts(
        asked=len(rows),
        running=sum(s in RUNNING for s in states),
        completed=states.count("completed"),
        failed=states.count("failed"),
        pruned=states.count("pruned"),
    )
