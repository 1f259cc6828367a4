"""Every /v1 route of the gateway, called with a token of every scope and with a run's
token: the scope the OpenAPI document names lets a token through, any other is a 403 that
names the scope missing; no token at all is a 401."""

import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from services.gateway.scopes import Scope
from shared.run_token import run_token
from tests.integration.gateway_auth import SECRET, TOKEN, Gateway, bearer, running_gateway

RUN_ID = "r1"
IN_AN_HOUR = int(time.time()) + 3600
# The scopes the issue sets, spelled out here so a change to them shows in this test.
EXPECTED = {
    ("POST", "/v1/runs"): "run",
    ("POST", "/v1/runs/{run_id}/abort"): "run",
    ("GET", "/v1/runs"): "read",
    ("POST", "/v1/events/{subject}"): "write",
    ("POST", "/v1/components"): "write",
    ("POST", "/v1/triggers"): "write",
    ("POST", "/v1/monitors"): "write",
    ("PUT", "/v1/artifacts/{sha256}"): "write",
    ("POST", "/v1/tokens"): "admin",
    ("DELETE", "/v1/tokens/{name}"): "admin",
    ("GET", "/v1/dlq"): "read",
    ("GET", "/v1/executors"): "read",
    ("POST", "/v1/dlq/{id}/replay"): "admin",
    ("POST", "/v1/dlq/replay"): "admin",
    ("POST", "/v1/sdk/runs/{run_id}/metrics"): "write",
    ("POST", "/v1/hooks/alertmanager"): "hook",
    ("POST", "/v1/hooks/grafana"): "hook",
    ("POST", "/v1/hooks"): "admin",
    ("GET", "/v1/hooks"): "admin",
    ("DELETE", "/v1/hooks/{name}"): "admin",
}


@pytest.fixture
async def gateway(nats_url: str, tmp_path: Path) -> AsyncIterator[Gateway]:
    # No service answers: a request let through ends at once in a 503 (no responders).
    # Streams last a moment: each route is read to its end.
    settings = {"query_timeout_s": 0.5, "stream_max_s": 0.5}
    async for running in running_gateway(nats_url, tmp_path / "home", **settings):
        yield running


async def operations(gateway: Gateway) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, a concrete path, its OpenAPI operation) of every /v1 route a token opens
    (not a generic hook's: its signature does, tests/integration/test_hooks.py)."""
    document = (await gateway.http.get("/openapi.json")).json()
    found = []
    for template, item in document["paths"].items():
        # A public subject: any other is refused (403) whatever the token's scope.
        concrete = template.replace("{run_id}", RUN_ID).replace("{subject}", "ext.x")
        path = re.sub(r"\{[^}]+\}", "x", concrete)
        if template.startswith("/v1/"):
            found += [
                (method.upper(), path, operation)
                for method, operation in item.items()
                if not operation["x-signed"]
            ]
    return found


async def test_every_route_names_its_scope_in_the_openapi_document(gateway: Gateway) -> None:
    document = (await gateway.http.get("/openapi.json")).json()
    named = {
        (method.upper(), path): operation["x-required-scope"]
        for path, item in document["paths"].items()
        if path.startswith("/v1/")
        for method, operation in item.items()
    }
    assert len(named) >= 50
    assert set(named.values()) <= {s.value for s in Scope}
    assert {key: named[key] for key in EXPECTED} == EXPECTED
    metrics = document["paths"]["/v1/sdk/runs/{run_id}/metrics"]["post"]
    assert metrics["x-run-token"] is True
    assert "Requires scope `write`" in metrics["description"]
    assert "healthz" not in str(named)


async def test_every_route_lets_its_scope_through_and_refuses_the_others(
    gateway: Gateway,
) -> None:
    tokens = {scope: await gateway.token(f"t-{scope}", scope.value) for scope in Scope}
    checked = 0
    for method, path, operation in await operations(gateway):
        needed = operation["x-required-scope"]
        for scope, token in tokens.items():
            answer = await gateway.http.request(method, path, json={}, headers=bearer(token))
            where = (method, path, scope.value, answer.status_code, answer.text)
            if scope.value in (needed, "admin"):
                assert answer.status_code not in (401, 403), where
            else:
                assert answer.status_code == 403, where
                assert f"needs scope {needed}" in answer.json()["detail"], where
            checked += 1
        unsigned = await gateway.http.request(method, path, json={})
        assert unsigned.status_code == 401, (method, path)
    assert checked >= 50 * len(Scope)


async def test_a_runs_token_opens_only_its_own_runs_routes(gateway: Gateway) -> None:
    mine = bearer(run_token(SECRET, RUN_ID, IN_AN_HOUR))
    for method, path, operation in await operations(gateway):
        answer = await gateway.http.request(method, path, json={}, headers=mine)
        if operation["x-run-token"]:
            assert answer.status_code not in (401, 403), (method, path, answer.text)
            other = await gateway.http.request(method, path.replace(RUN_ID, "r2"), headers=mine)
            assert other.status_code == 403, (method, path)
        else:
            assert answer.status_code == 403, (method, path, answer.text)
            assert "a run's token opens only its own run's routes" in answer.json()["detail"]


async def test_the_gateways_own_token_is_an_admin_token_and_a_wrong_one_is_refused(
    gateway: Gateway,
) -> None:
    listed = await gateway.http.get("/v1/tokens", headers=bearer(TOKEN))
    assert listed.status_code == 200
    for wrong in (TOKEN[:-1], TOKEN + "x", "bxo_" + "a" * 43, "run.00"):
        answer = await gateway.http.get("/v1/tokens", headers=bearer(wrong))
        assert answer.status_code == 401, wrong


async def test_a_run_token_not_made_with_the_secret_or_expired_is_unknown_not_forbidden(
    gateway: Gateway,
) -> None:
    """401 (who are you?) for what is no valid run token at all, wherever it is sent; 403
    only for a valid one on another run's route."""
    path = f"/v1/sdk/runs/{RUN_ID}/metrics"
    body = {"points": []}
    valid = run_token(SECRET, RUN_ID, IN_AN_HOUR)
    for wrong in (
        "run.00",
        "run." + "0" * 64,
        run_token("another secret", RUN_ID, IN_AN_HOUR),
        run_token(SECRET, RUN_ID, int(time.time()) - 1),  # expired
        valid.replace(f".{IN_AN_HOUR}.", f".{IN_AN_HOUR + 1}."),  # its expiry moved
        valid[:-1] + ("0" if valid[-1] != "0" else "1"),
    ):
        for where in (path, "/v1/runs"):
            answer = await gateway.http.post(where, json=body, headers=bearer(wrong))
            assert answer.status_code == 401, (wrong, where, answer.text)
            assert answer.json()["detail"] == "unknown, revoked or expired token"
    other = run_token(SECRET, "r2", IN_AN_HOUR)
    answer = await gateway.http.post(path, json=body, headers=bearer(other))
    assert answer.status_code == 403, answer.text
    assert "a run's token opens only its own run's routes" in answer.json()["detail"]


async def test_a_token_with_bytes_beyond_ascii_is_refused_not_a_fault(gateway: Gateway) -> None:
    for token in ("caf\xe9", "run.caf\xe9", "bxo_caf\xe9"):
        header = {"Authorization": f"Bearer {token}".encode("latin-1")}
        answer = await gateway.http.post(f"/v1/sdk/runs/{RUN_ID}/metrics", json={}, headers=header)
        assert answer.status_code == 401, (token, answer.text)
