"""Who may call a route: the bearer token against the scope the route needs (scopes.py).

Three kinds of token: the gateway's own (BOXOPS_API_TOKEN, what `boxops up` writes to its
token file: scope `admin`), named tokens from /v1/tokens (kept hashed in the gateway's
database), and a run's token (its run id and expiry, signed: shared/run_token.py). Every
comparison with a secret is in constant time.
"""

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.gateway import token_store
from services.gateway.scopes import Principal, Scope, refusal, requirement_of
from shared import run_token
from shared.bus import now

bearer = HTTPBearer(auto_error=False)
COOKIE = "boxops_token"  # the web UI's login: HttpOnly, SameSite=Strict (ui/session.py)
SAFE = {"GET", "HEAD"}
ADMIN = Principal("api token", frozenset({Scope.ADMIN}))
UNKNOWN = {"WWW-Authenticate": "Bearer"}


async def authorized(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """The dependency of every /v1 route: 401 without a valid token, 403 without the scope."""
    settings = request.app.state.settings
    if not settings.api_token:
        return  # an open gateway: the settings allow it on loopback only
    # The UI's cookie opens reads only (its live streams: EventSource sends no header), so
    # no cross-site form can change anything with it.
    cookie = request.cookies.get(COOKIE) if request.method in SAFE else None
    given = credentials.credentials if credentials else cookie
    if not given:
        raise HTTPException(401, "missing bearer token", UNKNOWN)
    run_id = request.path_params.get("run_id")
    principal = await principal_of(request, given)
    if principal is None:
        raise HTTPException(401, "unknown, revoked or expired token", UNKNOWN)
    needed = requirement_of(request.scope["route"].endpoint)
    if problem := refusal(principal, needed, run_id):
        raise HTTPException(403, problem)


async def principal_of(request: Request, given: str) -> Principal | None:
    """Whose token `given` is (None: unknown, revoked or expired)."""
    settings = request.app.state.settings
    if hmac.compare_digest(given.encode(), settings.api_token.encode()):
        return ADMIN
    if given.startswith(run_token.PREFIX):
        # Made for one run, which it names: refusal() checks it is this route's.
        run = run_token.run_of(settings.run_token_secret, given, now().timestamp())
        return None if run is None else Principal("run token", run_id=run)
    async with request.app.state.tokens() as session:
        token = await token_store.find(session, given, now())
    return token.principal() if token else None
