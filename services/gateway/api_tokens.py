"""API tokens as the gateway keeps them: minted once, stored as their sha256.

A token is 256 random bits (`secrets`), so a fast hash is enough: no one can search for a
text that has a stored digest, and a slow password hash (bcrypt, argon2) would only add
its cost to every request. Looking a token up by its digest also compares in constant
time what matters: the digest of a guess says nothing about a real token's text.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.gateway.scopes import Principal, Scope

PREFIX = "bxo_"  # makes a leaked token easy to recognise (secret scanners, logs)


def mint() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class ApiToken:
    name: str
    scopes: frozenset[Scope]
    created_at: datetime
    expires_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def principal(self) -> Principal:
        return Principal(self.name, self.scopes)


def expiry(now: datetime, expires_in_s: float | None) -> datetime | None:
    return None if expires_in_s is None else now + timedelta(seconds=expires_in_s)
