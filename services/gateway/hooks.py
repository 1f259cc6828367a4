"""/v1/hooks: generic signed hooks, made, listed and deleted by an admin.

A hook has a name (its URL: POST /v1/hooks/NAME), a secret its sender signs each body with
(shown once, when made), the subject it publishes under (`ext.hook.NAME` unless another
public subject is given) and, optionally, a mapping of the body to the event's fields.
The secret is kept as given in the gateway's own database: an HMAC is checked with the
secret itself, so a hash of it would not do.
"""

import secrets
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field, field_validator

from services.gateway import hook_store
from services.gateway.alert_hooks import ALERT_HOOKS
from services.gateway.hook_store import Hook
from services.gateway.json_bodies import JsonRoute
from services.gateway.scopes import Scope, needs
from shared import storable
from shared.bus import now
from shared.events import CUSTOM_PREFIX, is_public
from shared.specs import SUBJECT_TOKEN

router = APIRouter(route_class=JsonRoute, prefix="/hooks", tags=["hooks"])
NAME = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
DEFAULT_SUBJECT = CUSTOM_PREFIX + "hook.{name}"


class HookCreate(BaseModel):
    name: Annotated[str, Field(pattern=NAME, description="Unique; letters, digits, _ -")]
    subject: str | None = Field(
        None, description=f"Public subject to publish under; default {DEFAULT_SUBJECT}."
    )
    mapping: dict[str, str] = Field(
        default_factory=dict,
        description="Event field → dotted path in the body (`repo: repository.full_name`); "
        "none: the body as it is.",
    )
    secret: str | None = Field(
        None, min_length=16, description="The signing secret; none: one is made."
    )

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        """Accepted means stored: nothing the database would refuse (a NUL) gets past."""
        if found := storable.problem(value):
            raise ValueError(found)
        return value

    @field_validator("name")
    @classmethod
    def _not_an_alert_hook(cls, name: str) -> str:
        if name in ALERT_HOOKS:
            raise ValueError(f"{name!r} is the built-in {name} hook's name")
        return name

    @field_validator("subject")
    @classmethod
    def _public(cls, subject: str | None) -> str | None:
        if subject is None:
            return None
        if not all(SUBJECT_TOKEN.fullmatch(t) for t in subject.split(".")):
            raise ValueError(f"{subject!r} is not a subject: tokens of letters, digits, _ -")
        if not is_public(subject):
            raise ValueError(f"{subject!r} is not public: use one under {CUSTOM_PREFIX}")
        return subject


class HookView(BaseModel):
    name: str
    subject: str
    mapping: dict[str, str]
    created_at: datetime | None
    url: str = Field(description="Where its sender posts, under the gateway's address.")

    @classmethod
    def of(cls, hook: Hook) -> "HookView":
        url = f"/v1/hooks/{hook.name}"
        return cls(**{k: v for k, v in hook.__dict__.items() if k != "secret"}, url=url)


class HookCreated(HookView):
    secret: str = Field(description="The signing secret: shown this once.")


@router.post("", status_code=201, response_model=HookCreated)
@needs(Scope.ADMIN)
async def create_hook(body: HookCreate, request: Request) -> HookCreated:
    """Make a signed hook; the secret its sender signs with is in this answer."""
    subject = body.subject or DEFAULT_SUBJECT.format(name=body.name)
    secret = body.secret or secrets.token_urlsafe(32)
    hook = Hook(body.name, secret, subject, body.mapping, now())
    async with request.app.state.tokens() as session:
        try:
            await hook_store.add(session, hook)
        except hook_store.NameTaken:
            raise HTTPException(
                409, f"a hook named {body.name!r} exists: delete it first"
            ) from None
    return HookCreated(**HookView.of(hook).model_dump(), secret=secret)


@router.get("", response_model=list[HookView])
@needs(Scope.ADMIN)
async def list_hooks(request: Request) -> list[HookView]:
    """Every generic hook: name, subject, mapping (never its secret)."""
    async with request.app.state.tokens() as session:
        return [HookView.of(hook) for hook in await hook_store.listing(session)]


@router.delete("/{name}")
@needs(Scope.ADMIN)
async def delete_hook(name: str, request: Request) -> dict[str, str]:
    """Delete a hook: its URL takes nothing from now on."""
    async with request.app.state.tokens() as session:
        if not await hook_store.remove(session, name):
            raise HTTPException(404, f"no hook named {name!r}")
    return {"deleted": name}
