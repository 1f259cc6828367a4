"""One-time links that sign a browser in to the web UI with the token that asked for one:
`boxops ui` opens such a link, so nobody pastes a token. A link is a random code kept in the
gateway's memory with the token: it works once, for LINK_TTL_S; a restarted gateway forgets
the links not used yet (ask for another)."""

import secrets
import time
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field

from services.gateway.auth import bearer
from services.gateway.json_bodies import JsonRoute
from services.gateway.scopes import Scope, needs

LINK_TTL_S = 60.0
MAX_PENDING = 1000  # links not used yet: however many are asked for, memory stays bounded
router = APIRouter(route_class=JsonRoute, tags=["ui"])


@dataclass
class LoginLinks:
    """Codes not used yet, each with its token and when it stops working."""

    ttl_s: float = LINK_TTL_S
    pending: dict[str, tuple[str, float]] = field(default_factory=dict)

    def issue(self, token: str) -> str:
        self._forget_expired()
        while len(self.pending) >= MAX_PENDING:  # the oldest go first (dicts keep order)
            del self.pending[next(iter(self.pending))]
        code = secrets.token_urlsafe(32)
        self.pending[code] = (token, time.monotonic() + self.ttl_s)
        return code

    def redeem(self, code: str) -> str | None:
        """The token of a link not used and not expired; the link is spent either way."""
        token, until = self.pending.pop(code, ("", 0.0))
        return token if token and time.monotonic() < until else None

    def _forget_expired(self) -> None:
        now = time.monotonic()
        for code in [c for c, (_, until) in self.pending.items() if until <= now]:
            del self.pending[code]


class LinkAsked(BaseModel):
    next: str = Field(
        "/runs",
        max_length=2000,
        pattern=r"^/([^/\\\x00-\x1f\x7f][^\x00-\x1f\x7f]*)?$",
        description="The UI's page to land on (a path of this site).",
    )


class LoginLink(BaseModel):
    path: str = Field(description="Open it (on this gateway) within expires_in_s, once.")
    expires_in_s: float


@router.post("/ui/login-links", response_model=LoginLink, status_code=201)
@needs(Scope.READ)
async def create_login_link(
    request: Request,
    asked: LinkAsked,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> LoginLink:
    """A one-time link that signs a browser in to the web UI with the token of this request
    (a run's token cannot have one: it may not read the UI)."""
    links: LoginLinks = request.app.state.login_links
    if credentials is None:  # an open gateway: its pages ask for no login
        return LoginLink(path=asked.next, expires_in_s=links.ttl_s)
    code = links.issue(credentials.credentials)
    path = f"/login/link/{code}?{urlencode({'next': asked.next})}"
    return LoginLink(path=path, expires_in_s=links.ttl_s)
