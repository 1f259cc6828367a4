"""API tokens in the gateway's database: add, list, revoke, find by the token's digest."""

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.gateway.api_tokens import ApiToken, digest
from services.gateway.scopes import Scope
from services.gateway.tables import TokenRow


class NameTaken(Exception):
    """A token of that name exists already."""


async def add(session: AsyncSession, token: ApiToken, text: str) -> None:
    session.add(
        TokenRow(
            name=token.name,
            digest=digest(text),
            scopes=sorted(token.scopes),
            created_at=token.created_at,
            expires_at=token.expires_at,
        )
    )
    try:
        await session.commit()
    except IntegrityError:
        raise NameTaken(token.name) from None


async def listing(session: AsyncSession) -> list[ApiToken]:
    rows = await session.exec(select(TokenRow).order_by(col(TokenRow.name)))
    return [_token(row) for row in rows.all()]


async def revoke(session: AsyncSession, name: str) -> bool:
    result = await session.exec(delete(TokenRow).where(col(TokenRow.name) == name))
    await session.commit()
    return bool(result.rowcount)


async def find(session: AsyncSession, text: str, now: datetime) -> ApiToken | None:
    """The unexpired token whose text this is, or None."""
    row = (await session.exec(select(TokenRow).where(TokenRow.digest == digest(text)))).first()
    token = _token(row) if row else None
    return token if token and not token.expired(now) else None


def _token(row: TokenRow) -> ApiToken:
    scopes = frozenset(Scope(s) for s in row.scopes)
    return ApiToken(row.name, scopes, row.created_at, row.expires_at)
