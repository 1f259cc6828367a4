"""Who is looking at the UI: the API token kept in an HttpOnly, SameSite=Strict cookie, and
the CSRF token every form that changes something carries (an HMAC of that cookie, which a
page of another site can neither read nor compute)."""

import hashlib
import hmac
import secrets
from urllib.parse import quote, urlsplit

from fastapi import HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from services.gateway.auth import ADMIN, COOKIE, principal_of
from services.gateway.scopes import Principal, Requirement, refusal

MAX_AGE_S = 12 * 3600
OPEN_GATEWAY_KEY = secrets.token_bytes(32)


async def viewer(request: Request) -> Principal | None:
    """The signed-in token's principal; None when the page should ask for a login."""
    if not request.app.state.settings.api_token:
        return ADMIN  # an open gateway (loopback only): no login to ask for
    token = request.cookies.get(COOKIE)
    principal = await principal_of(request, token) if token else None
    return principal if principal and principal.run_id is None else None


def allowed(principal: Principal, needed: Requirement) -> bool:
    return refusal(principal, needed, None) is None


def sign_in(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(
        COOKIE, token, max_age=MAX_AGE_S, httponly=True, samesite="strict", secure=secure
    )


def sign_out(response: Response) -> None:
    response.delete_cookie(COOKIE, httponly=True, samesite="strict")


def csrf_token(request: Request) -> str:
    """The signed-in cookie's CSRF token ("" without one: no form can be sent then). An open
    gateway's pages need no login: theirs comes from a secret of this process, which no
    other page can know."""
    token = request.cookies.get(COOKIE)
    if token:
        key = token.encode()
    elif not request.app.state.settings.api_token:
        key = OPEN_GATEWAY_KEY
    else:
        return ""
    return hmac.new(key, b"boxops-ui-csrf", hashlib.sha256).hexdigest()


def check_csrf(request: Request, given: str) -> None:
    expected = csrf_token(request)
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(403, "the form's CSRF token is missing or stale: reload the page")


def to_login(request: Request) -> Response:
    """Where a request without a (valid) login goes: the login page, then back. A fragment
    htmx asks for sends the whole page there (`HX-Redirect`, with the page it is part of
    to come back to): a redirect followed in place would put the login form in the
    fragment's place."""
    if "hx-request" not in request.headers:
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(login_url(back), status_code=303)
    page = urlsplit(request.headers.get("hx-current-url", ""))
    back = page.path + (f"?{page.query}" if page.query else "")
    return Response(status_code=401, headers={"HX-Redirect": login_url(back)})


def login_url(back: str) -> str:
    """The login page, to come back to `back` after (a path of this site only)."""
    local = back.startswith("/") and not back.startswith("//")
    return f"/login?next={quote(back if local else '/runs', safe='/')}"
