"""The hooks on the embedded stack, whose bus is permissioned: the gateway, as itself,
publishes an Alertmanager notification's alerts and the crossing one carries, and
dead-letters a bad body, and NATS refuses it nothing."""

import asyncio
import json
from pathlib import Path

import httpx

from shared.credentials import nats_login
from tests.e2e.test_bus_auth import stack, status, stored  # noqa: F401 (a fixture)
from tests.e2e.test_embedded_stack import boxops
from tests.unit.gateway.alert_payloads import ALERTMANAGER


def test_the_gateway_publishes_a_hooks_events_within_its_permissions(
    stack: dict[str, str],  # noqa: F811
) -> None:
    home = Path(stack["BOXOPS_HOME"])
    made = boxops(stack, "tokens", "create", "alertmanager", "--scope", "hook")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    shown = status(stack)
    with httpx.Client(base_url=shown["gateway_url"], timeout=30) as http:
        mine = {"Authorization": f"Bearer {token}"}
        answer = http.post("/v1/hooks/alertmanager", json=ALERTMANAGER, headers=mine)
        assert answer.status_code == 202, answer.text
        bad = http.post("/v1/hooks/alertmanager", content=b"{", headers=mine)
        assert bad.status_code == 422, bad.text

    operator = nats_login(home / "bus" / "admin.env")
    url = shown["nats_url"]
    [firing] = asyncio.run(stored(url, operator, "alert.firing"))
    assert json.loads(firing)["labels"]["model"] == "churn"
    [crossing] = asyncio.run(stored(url, operator, "metric.above_threshold"))
    assert json.loads(crossing)["metric"] == "psi"
    assert len(asyncio.run(stored(url, operator, "alert.resolved"))) == 1
    assert len(asyncio.run(stored(url, operator, "dlq.hooks.alertmanager"))) == 1
    log = (home / "logs" / "nats.log").read_text()
    assert not [line for line in log.splitlines() if '/user:gateway" - Publish Violation' in line]
