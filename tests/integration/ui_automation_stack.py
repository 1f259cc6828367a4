"""A stack for the triggers, monitors, events and dead-letter pages: scheduler, trigger
service and an open gateway for the test's own API calls, plus a gateway with an API token
whose pages a cookie-only client browses (as a browser without JavaScript)."""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.gateway.app import build_app as build_gateway
from services.gateway.settings import GatewaySettings
from tests.integration.conftest import Stack, start_stack, stop_stack

TOKEN = "ui-admin-token-for-tests"


@dataclass
class UiStack:
    stack: Stack
    ui: FastAPI

    @property
    def api(self) -> httpx.AsyncClient:
        return self.stack.http

    def browser(self) -> httpx.AsyncClient:
        """A client with no bearer token: only what the login cookie gives."""
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.ui), base_url="http://ui")

    @asynccontextmanager
    async def signed_in(self, token: str = TOKEN) -> AsyncIterator[httpx.AsyncClient]:
        async with self.browser() as browser:
            answer = await browser.post("/login", data={"token": token, "next": "/runs"})
            assert answer.status_code == 303, answer.text
            yield browser

    async def read_token(self) -> str:
        async with self.browser() as admin:
            answer = await admin.post(
                "/v1/tokens",
                json={"name": "reader", "scopes": ["read"]},
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
        assert answer.status_code == 201, answer.text
        return answer.json()["token"]  # type: ignore[no-any-return]


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found, page
    return found.group(1)


@pytest.fixture(name="db")
def sqlite_db(tmp_path: Path) -> tuple[str, str]:
    """SQLite only: these tests are about the pages, not the databases (tested elsewhere)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'service.db'}", "main"


@pytest.fixture(name="ui_stack")
async def ui_stack_fixture(
    nats_url: str, db: tuple[str, str], tmp_path: Path
) -> AsyncIterator[UiStack]:
    stack = await start_stack(
        nats_url, db, tmp_path / "home", with_executor=False, services=("trigger",)
    )
    ui = build_gateway(GatewaySettings(nats_url=nats_url, home=tmp_path / "ui", api_token=TOKEN))
    await ui.state.service.start()
    yield UiStack(stack, ui)
    await ui.state.service.stop()
    await stop_stack(stack)
