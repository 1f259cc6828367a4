"""Generic hooks and the deliveries hooks remember, in the gateway's database."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.gateway.tables import DeliveryRow, HookRow


class NameTaken(Exception):
    """A hook of that name exists already."""


@dataclass(frozen=True)
class Hook:
    name: str
    secret: str
    subject: str
    mapping: dict[str, str] = field(default_factory=dict)
    created_at: datetime | None = None


async def add(session: AsyncSession, hook: Hook) -> None:
    session.add(HookRow(**hook.__dict__))
    try:
        await session.commit()
    except IntegrityError:
        raise NameTaken(hook.name) from None


async def get(session: AsyncSession, name: str) -> Hook | None:
    row = await session.get(HookRow, name)
    return _hook(row) if row else None


async def listing(session: AsyncSession) -> list[Hook]:
    rows = await session.exec(select(HookRow).order_by(col(HookRow.name)))
    return [_hook(row) for row in rows.all()]


async def remove(session: AsyncSession, name: str) -> bool:
    result = await session.exec(delete(HookRow).where(col(HookRow.name) == name))
    await session.exec(delete(DeliveryRow).where(col(DeliveryRow.hook) == name))
    await session.commit()
    return bool(result.rowcount)


async def seen(session: AsyncSession, hook: str, keys: list[str], since: datetime) -> set[str]:
    """Which of `keys` the hook remembers from `since` on."""
    rows = await session.exec(
        select(DeliveryRow.key).where(
            col(DeliveryRow.hook) == hook,
            col(DeliveryRow.key).in_(keys),
            col(DeliveryRow.seen_at) >= since,
        )
    )
    return set(rows.all())


async def remember(
    session: AsyncSession, hook: str, keys: list[str], at: datetime, forget_before: datetime
) -> bool:
    """Remember `keys` for the hook (and forget what it saw before `forget_before`).
    False, remembering nothing, if it remembers one of them already."""
    await session.exec(
        delete(DeliveryRow).where(
            col(DeliveryRow.hook) == hook, col(DeliveryRow.seen_at) < forget_before
        )
    )
    await session.commit()  # what it forgot stays forgotten, whatever comes next
    session.add_all(DeliveryRow(hook=hook, key=key, seen_at=at) for key in keys)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        return False
    return True


async def forget(session: AsyncSession, hook: str, keys: list[str]) -> None:
    await session.exec(
        delete(DeliveryRow).where(col(DeliveryRow.hook) == hook, col(DeliveryRow.key).in_(keys))
    )
    await session.commit()


def _hook(row: HookRow) -> Hook:
    return Hook(row.name, row.secret, row.subject, dict(row.mapping), row.created_at)
