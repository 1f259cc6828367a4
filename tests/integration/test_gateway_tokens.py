"""API tokens: made with a name, scopes and an expiry; shown once, kept as a sha256,
listed without their text, refused once revoked or expired. A fault in their database is
answered with an id only."""

import hashlib
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from shared.db import create_engine
from tests.conftest import eventually
from tests.integration.gateway_auth import TOKEN, Gateway, bearer, running_gateway

ADMIN = bearer(TOKEN)


@pytest.fixture
async def gateway(nats_url: str, db: tuple[str, str], tmp_path: Path) -> AsyncIterator[Gateway]:
    """On SQLite and on PostgreSQL."""
    url, schema = db
    async for running in running_gateway(nats_url, tmp_path / "home", db_url=url, db_schema=schema):
        yield running


async def sql(gateway: Gateway, statement: str) -> list[Any]:
    """Run `statement` on the gateway's database, as another client would."""
    settings = gateway.settings
    engine = create_engine(settings.database_url("gateway"), settings.database_schema("gateway"))
    try:
        async with engine.begin() as connection:
            result = await connection.execute(text(statement))
            return list(result.all()) if result.returns_rows else []
    finally:
        await engine.dispose()


async def test_a_token_is_shown_once_kept_hashed_and_listed_without_its_text(
    gateway: Gateway,
) -> None:
    token = await gateway.token("ci", "read", "run", expires_in="30d")

    rows = await sql(gateway, "SELECT name, digest, scopes, created_at, expires_at FROM api_tokens")
    assert [row[:2] for row in rows] == [("ci", hashlib.sha256(token.encode()).hexdigest())]
    assert token not in str(rows)
    listed = (await gateway.http.get("/v1/tokens", headers=ADMIN)).json()
    assert [(t["name"], t["scopes"], t["expired"]) for t in listed] == [
        ("ci", ["read", "run"], False)
    ]
    assert listed[0]["expires_at"] is not None
    assert token not in str(listed)
    runs = await gateway.http.get("/v1/tokens", headers=bearer(token))
    assert runs.status_code == 403
    assert runs.json()["detail"] == "this route needs scope admin; token 'ci' has read, run"


async def test_a_revoked_token_opens_nothing(gateway: Gateway) -> None:
    token = await gateway.token("reader", "read")
    assert (await gateway.http.get("/v1/artifacts/names", headers=bearer(token))).status_code != 401

    revoked = await gateway.http.delete("/v1/tokens/reader", headers=ADMIN)
    assert revoked.json() == {"revoked": "reader"}

    answer = await gateway.http.get("/v1/artifacts/names", headers=bearer(token))
    assert (answer.status_code, answer.json()["detail"]) == (
        401,
        "unknown, revoked or expired token",
    )
    again = await gateway.http.delete("/v1/tokens/reader", headers=ADMIN)
    assert (again.status_code, again.json()["detail"]) == (404, "no token named 'reader'")


async def test_an_expired_token_opens_nothing(gateway: Gateway) -> None:
    token = await gateway.token("brief", "admin", expires_in="1s")
    assert (await gateway.http.get("/v1/tokens", headers=bearer(token))).status_code == 200

    async def refused() -> bool:
        answer = await gateway.http.get("/v1/tokens", headers=bearer(token))
        return answer.status_code == 401

    await eventually(refused, timeout=10)
    listed = (await gateway.http.get("/v1/tokens", headers=ADMIN)).json()
    assert [(t["name"], t["expired"]) for t in listed] == [("brief", True)]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"name": "x", "scopes": ["root"]}, "scopes"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x y", "scopes": ["read"]}, "name"),
        ({"name": "x", "scopes": ["read"], "expires_in": "soon"}, "expires_in"),
    ],
)
async def test_a_bad_request_for_a_token_names_the_field(
    gateway: Gateway, body: dict[str, object], named: str
) -> None:
    answer = await gateway.http.post("/v1/tokens", json=body, headers=ADMIN)
    assert answer.status_code == 422
    assert named in str(answer.json()["detail"])
    assert (await gateway.http.get("/v1/tokens", headers=ADMIN)).json() == []


async def test_a_name_is_taken_once(gateway: Gateway) -> None:
    await gateway.token("ci", "read")
    answer = await gateway.http.post(
        "/v1/tokens", json={"name": "ci", "scopes": ["admin"]}, headers=ADMIN
    )
    assert (answer.status_code, answer.json()["detail"]) == (
        409,
        "a token named 'ci' exists: revoke it first",
    )


async def test_a_fault_in_the_token_database_answers_an_id_and_logs_the_rest(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    await sql(gateway, "DROP TABLE api_tokens")

    with caplog.at_level(logging.ERROR):
        answer = await gateway.http.get("/v1/runs", headers=bearer("bxo_not-a-known-token"))

    assert answer.status_code == 500
    found = re.fullmatch(r"internal error, id ([0-9a-f-]{36})", answer.json()["detail"])
    assert found, answer.text
    assert "api_tokens" not in answer.text and "SELECT" not in answer.text
    logged = [r for r in caplog.records if found.group(1) in r.getMessage()]
    assert logged and logged[0].exc_info is not None
    assert "api_tokens" in str(logged[0].exc_info[1])
