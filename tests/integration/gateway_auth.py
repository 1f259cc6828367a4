"""A gateway with authentication on, on a real nats-server and its own SQLite database."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from services.gateway.app import build_app
from services.gateway.settings import GatewaySettings

TOKEN = "the-gateways-own-admin-token"
SECRET = "run-token-secret-for-tests"


@dataclass
class Gateway:
    app: FastAPI
    settings: GatewaySettings
    http: httpx.AsyncClient  # no token: each request says which

    async def token(self, name: str, *scopes: str, **extra: Any) -> str:
        body = {"name": name, "scopes": list(scopes), **extra}
        answer = await self.http.post("/v1/tokens", json=body, headers=bearer(TOKEN))
        assert answer.status_code == 201, answer.text
        return answer.json()["token"]  # type: ignore[no-any-return]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def running_gateway(nats_url: str, home: Path, **settings: Any) -> AsyncIterator[Gateway]:
    config = GatewaySettings(
        nats_url=nats_url, home=home, api_token=TOKEN, run_token_secret=SECRET, **settings
    )
    app = build_app(config)
    await app.state.service.start()
    # A fault must come back as the app's own 500, not be raised into the test.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield Gateway(app, config, http)
    await app.state.service.stop()
