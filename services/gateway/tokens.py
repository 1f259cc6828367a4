"""/v1/tokens: named API tokens with scopes and an expiry; the text is shown once."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.gateway import token_store
from services.gateway.api_tokens import ApiToken, expiry, mint
from services.gateway.json_bodies import JsonRoute
from services.gateway.scopes import Scope, needs
from shared.bus import now
from shared.durations import Duration

router = APIRouter(route_class=JsonRoute, prefix="/tokens", tags=["tokens"])
NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class TokenCreate(BaseModel):
    name: Annotated[str, Field(pattern=NAME, description="Unique; letters, digits, _ . -")]
    scopes: Annotated[
        list[Scope],
        Field(min_length=1, description="What it may do: read, run, write, admin, hook."),
    ]
    expires_in: Annotated[
        Duration | None, Field(description="Lifetime: seconds or '30d', '12h'; none: no expiry.")
    ] = None


class TokenView(BaseModel):
    name: str
    scopes: list[Scope]
    created_at: datetime
    expires_at: datetime | None = None
    expired: bool = False

    @classmethod
    def of(cls, token: ApiToken, at: datetime) -> "TokenView":
        scopes = sorted(token.scopes)
        return cls(**token.__dict__ | {"scopes": scopes}, expired=token.expired(at))


class TokenCreated(TokenView):
    token: str = Field(description="The token itself: shown this once, stored only hashed.")


def _sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    return request.app.state.tokens


@router.post("", status_code=201, response_model=TokenCreated)
@needs(Scope.ADMIN)
async def create_token(body: TokenCreate, request: Request) -> TokenCreated:
    """Make a token; its text is in this answer and nowhere else."""
    at = now()
    token = ApiToken(body.name, frozenset(body.scopes), at, expiry(at, body.expires_in))
    text = mint()
    async with _sessions(request)() as session:
        try:
            await token_store.add(session, token, text)
        except token_store.NameTaken:
            raise HTTPException(
                409, f"a token named {body.name!r} exists: revoke it first"
            ) from None
    return TokenCreated(**TokenView.of(token, at).model_dump(), token=text)


@router.get("", response_model=list[TokenView])
@needs(Scope.ADMIN)
async def list_tokens(request: Request) -> list[TokenView]:
    """Every token's name, scopes and expiry (never its text)."""
    at = now()
    async with _sessions(request)() as session:
        return [TokenView.of(token, at) for token in await token_store.listing(session)]


@router.delete("/{name}")
@needs(Scope.ADMIN)
async def revoke_token(name: str, request: Request) -> dict[str, str]:
    """Revoke a token: it opens nothing from now on."""
    async with _sessions(request)() as session:
        if not await token_store.revoke(session, name):
            raise HTTPException(404, f"no token named {name!r}")
    return {"revoked": name}
