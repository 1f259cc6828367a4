"""Notify targets end to end: the trigger service on real NATS and a database, posting to
a real HTTP receiver on loopback that fails when told to."""

import asyncio
import hashlib
import hmac
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from shared.bus import now
from shared.events import ModelAliasSet, RunFailed
from tests.conftest import eventually
from tests.integration.conftest import Stack, build_other, start_stack, stop_stack
from tests.integration.served import served

SECRET = "s3cret-for-tests"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "notify"


@dataclass
class Receiver:
    """An HTTP endpoint that answers each POST with the next status it is given (then
    `otherwise`) and keeps what it got."""

    statuses: list[int] = field(default_factory=list)
    otherwise: int = 200
    got: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.got.append((dict(request.headers), await request.read()))
        status = self.statuses.pop(0) if self.statuses else self.otherwise
        return web.Response(status=status, text="ok" if status < 300 else "not now")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    app = web.Application()
    app.router.add_post("/hook", found.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    found.url = f"http://{host}:{port}/hook"
    yield found
    await runner.cleanup()


@pytest.fixture
async def stack(
    nats_url: str, db: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Stack]:
    monkeypatch.setenv("BOXOPS_NOTIFY_TEST_SECRET", SECRET)
    running = await start_stack(
        nats_url, db, tmp_path / "home", with_executor=False, services=("trigger",)
    )
    yield running
    await stop_stack(running)


def webhook(url: str, *, subject: str = "ext.shop.sold", attempts: int = 5) -> str:
    return f"""
kind: trigger
name: shop-hook
event: {{subject: {subject}, where: {{amount: {{gte: 100}}}}}}
target:
  notify:
    url: {url}
    secret_env: BOXOPS_NOTIFY_TEST_SECRET
    attempts: {attempts}
    backoff: 0.2s
    max_backoff: 0.5s
    timeout: 2s
"""


async def apply(stack: Stack, text: str) -> Any:
    return await stack.http.post(
        "/v1/triggers", content=text, headers={"content-type": "application/yaml"}
    )


async def publish(stack: Stack, subject: str, data: dict[str, Any]) -> str:
    response = await stack.http.post(f"/v1/events/{subject}", json=data)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def notified(stack: Stack, name: str, state: str, timeout: float = 30) -> dict[str, Any]:
    """The trigger's newest firing once its notification reached `state`."""

    async def check() -> dict[str, Any] | None:
        rows = (await stack.http.get(f"/v1/triggers/{name}/history")).json()
        done = [r for r in rows if r.get("notify", {}).get("state") == state]
        return done[0] if done else None

    return await eventually(check, timeout=timeout)  # type: ignore[return-value]


def attempts(firing: dict[str, Any]) -> list[tuple[int, int | None, str]]:
    return [(a["attempt"], a["status_code"], a["outcome"]) for a in firing["notify"]["attempts"]]


def verified(headers: dict[str, str], body: bytes) -> bool:
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["X-Boxops-Signature-256"], expected)


async def test_a_webhook_failing_twice_gets_the_signed_cloudevent_at_the_third_attempt(
    stack: Stack, receiver: Receiver
) -> None:
    receiver.statuses = [500, 503]
    assert (await apply(stack, webhook(receiver.url))).status_code == 200
    await publish(stack, "ext.shop.sold", {"amount": 5})  # filtered out
    event_id = await publish(stack, "ext.shop.sold", {"amount": 120, "item": "lamp"})

    firing = await notified(stack, "shop-hook", "delivered")
    assert firing["event_id"] == event_id
    assert attempts(firing) == [(1, 500, "retry"), (2, 503, "retry"), (3, 200, "delivered")]
    assert all(a["at"] and a["error"] == "" for a in firing["notify"]["attempts"])
    assert len(receiver.got) == 3
    assert len({body for _, body in receiver.got}) == 1  # the same bytes every time
    assert len({headers["X-Boxops-Delivery"] for headers, _ in receiver.got}) == 1
    assert receiver.got[0][0]["X-Boxops-Delivery"] == firing["id"]
    headers, body = receiver.got[-1]
    assert headers["Content-Type"] == "application/cloudevents+json"
    assert verified(headers, body)
    assert not verified(headers, body.replace(b"lamp", b"lamb"))
    event = json.loads(body)
    assert event["specversion"] == "1.0"
    assert (event["id"], event["type"]) == (event_id, "dev.boxops.ext.shop.sold")
    assert event["data"] == {"amount": 120, "item": "lamp"}
    shown = (await stack.http.get("/v1/triggers/shop-hook")).json()
    assert SECRET not in json.dumps(shown)
    assert shown["spec"]["target"]["notify"]["secret_env"] == "BOXOPS_NOTIFY_TEST_SECRET"


async def test_chat_messages_are_rendered_for_a_failed_run_and_a_production_alias(
    stack: Stack, receiver: Receiver
) -> None:
    failed = f"""
kind: trigger
name: tell-failed
event: {{subject: run.failed, where: {{reason: {{regex: "^exit"}}}}}}
target:
  notify:
    url: {receiver.url}
    text: "run {{{{ event.run_id }}}} failed: {{{{ event.reason }}}}"
"""
    alias = f"""
kind: trigger
name: tell-production
event: {{subject: model.alias.set, where: {{alias: production}}}}
target:
  notify:
    url: {receiver.url}
    text: "{{{{ event.model }}}} v{{{{ event.version }}}} is in production"
"""
    for text in (failed, alias):
        assert (await apply(stack, text)).status_code == 200
    bus = stack.scheduler.bus  # the subjects the scheduler and the registry publish
    await bus.publish(RunFailed(run_id="r0", state="failed", at=now(), reason="aborted"))
    await bus.publish(RunFailed(run_id="r1", state="failed", at=now(), reason="exit code 2"))
    await bus.publish(ModelAliasSet(model="clf", alias="staging", version=3))
    await bus.publish(ModelAliasSet(model="clf", alias="production", version=2))

    await notified(stack, "tell-failed", "delivered")
    await notified(stack, "tell-production", "delivered")
    # The trigger service reads the events in order: the filtered ones were passed over.
    texts = sorted(json.loads(body)["text"] for _, body in receiver.got)
    assert texts == ["clf v2 is in production", "run r1 failed: exit code 2"]
    assert {headers["Content-Type"] for headers, _ in receiver.got} == {"application/json"}
    assert all("X-Boxops-Signature-256" not in headers for headers, _ in receiver.got)


async def test_the_example_file_applies_both_triggers_and_tells_the_channel(
    stack: Stack, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOXOPS_NOTIFY_CHAT_URL", receiver.url)  # the trigger service's
    async with served(stack.gateway) as url:
        applied = await boxops(url, "triggers", "apply", str(EXAMPLES / "tell-the-channel.yaml"))
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.splitlines() == [
        "trigger tell-failed-retrainings v1 created",
        "trigger tell-production-models v1 created",
    ]
    bus = stack.scheduler.bus
    other = RunFailed(run_id="r0", state="failed", at=now(), reason="exit code 1", pipeline="etl@1")
    await bus.publish(other)  # not a retraining: no message
    failed = RunFailed(
        run_id="r1", state="failed", at=now(), reason="exit code 2", pipeline="iris-train@3"
    )
    await bus.publish(failed)
    await bus.publish(ModelAliasSet(model="clf", alias="production", version=2))

    await notified(stack, "tell-failed-retrainings", "delivered")
    await notified(stack, "tell-production-models", "delivered")
    texts = sorted(json.loads(body)["text"] for _, body in receiver.got)
    assert texts == [
        "model clf v2 is now in production",
        "run r1 of iris-train@3 failed: exit code 2",
    ]
    shown = (await stack.http.get("/v1/triggers/tell-failed-retrainings")).json()
    assert receiver.url not in json.dumps(shown)  # the spec names the variable only


async def test_a_debounced_burst_sends_one_message_with_the_last_values(
    stack: Stack, receiver: Receiver
) -> None:
    text = webhook(receiver.url).replace("target:", "debounce: 3s\ntarget:")
    assert (await apply(stack, text)).status_code == 200
    for amount in (100, 200, 300):
        last = await publish(stack, "ext.shop.sold", {"amount": amount})

    firing = await notified(stack, "shop-hook", "delivered")
    assert firing["status"] == "debounced"
    [(headers, body)] = receiver.got
    assert json.loads(body)["id"] == last
    assert json.loads(body)["data"] == {"amount": 300}
    assert verified(headers, body)


async def test_a_notify_trigger_fired_by_hand_sends_a_cloudevent_of_its_own(
    stack: Stack, receiver: Receiver
) -> None:
    assert (await apply(stack, webhook(receiver.url))).status_code == 200
    response = await stack.http.post("/v1/triggers/shop-hook/fire", json={})
    assert response.status_code == 202, response.text

    await notified(stack, "shop-hook", "delivered")
    [(_, body)] = receiver.got
    event = json.loads(body)
    assert (event["type"], event["source"]) == (
        "dev.boxops.trigger.fired",
        "boxops/trigger/shop-hook",
    )
    assert event["data"]["trigger"] == {"name": "shop-hook"}


async def test_a_receiver_that_keeps_failing_is_dead_lettered_with_the_reason(
    stack: Stack, receiver: Receiver
) -> None:
    receiver.otherwise = 502
    assert (await apply(stack, webhook(receiver.url, attempts=3))).status_code == 200
    await publish(stack, "ext.shop.sold", {"amount": 300})

    firing = await notified(stack, "shop-hook", "failed")
    assert attempts(firing) == [(1, 502, "retry"), (2, 502, "retry"), (3, 502, "failed")]

    async def dead() -> list[dict[str, Any]]:
        return [
            letter
            for letter in (await stack.http.get("/v1/dlq")).json()
            if letter["subject"] == "trigger.notify.shop-hook"
        ]

    letters: list[dict[str, Any]] = await eventually(dead)  # type: ignore[assignment]
    [letter] = letters
    assert letter["reason"] == (
        f"trigger shop-hook: notifying {receiver.url} failed 3 time(s), last: HTTP 502"
    )
    assert letter["data"]["data"] == {"amount": 300}
    assert len(receiver.got) == 3

    async with served(stack.gateway) as url:
        shown = await boxops(url, "triggers", "history", "shop-hook")
    assert shown.returncode == 0, shown.stderr
    lines = [line for line in shown.stdout.splitlines() if "attempt" in line]
    cells = [[cell.strip() for cell in line.strip(" │").split("│")] for line in lines]
    assert [(row[1], row[-1]) for row in cells] == [
        ("attempt 1", "HTTP 502: retry"),
        ("attempt 2", "HTTP 502: retry"),
        ("attempt 3", "HTTP 502: failed"),
    ]


async def test_a_pending_delivery_outlives_a_restart_of_the_trigger_service(
    stack: Stack, receiver: Receiver
) -> None:
    receiver.otherwise = 503
    assert (await apply(stack, webhook(receiver.url, attempts=50))).status_code == 200
    await publish(stack, "ext.shop.sold", {"amount": 100})
    await eventually(lambda: _tried(stack))
    service = stack.others["trigger"]
    await service.stop()
    receiver.otherwise = 200  # the receiver is back while the trigger service is down
    await service.start()

    firing = await notified(stack, "shop-hook", "delivered")
    tried = attempts(firing)
    assert [number for number, _, _ in tried] == list(range(1, len(tried) + 1))
    assert tried[0] == (1, 503, "retry") and tried[-1][1:] == (200, "delivered")


async def boxops(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI, in a process of its own, against the served gateway."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "boxops.cli.main", *args],
        env=env | {"BOXOPS_GATEWAY_URL": url, "COLUMNS": "300"},
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_two_replicas_make_each_attempt_once(
    stack: Stack, receiver: Receiver, nats_url: str, db: tuple[str, str], tmp_path: Path
) -> None:
    receiver.statuses = [500, 500]
    assert (await apply(stack, webhook(receiver.url))).status_code == 200
    replica = build_other("trigger", {"nats_url": nats_url, "home": tmp_path / "replica"}, db, None)
    await replica.start()  # a second trigger service on the database, with the trigger loaded
    try:
        for amount in (100, 200, 300):
            await publish(stack, "ext.shop.sold", {"amount": amount})

        async def all_delivered() -> list[dict[str, Any]] | None:
            rows = (await stack.http.get("/v1/triggers/shop-hook/history")).json()
            done = [r for r in rows if r.get("notify", {}).get("state") == "delivered"]
            return done if len(done) == 3 else None

        firings: list[dict[str, Any]] = await eventually(all_delivered, timeout=30)  # type: ignore[assignment]
    finally:
        await replica.stop()
    tried = sum(len(firing["notify"]["attempts"]) for firing in firings)
    assert tried == 3 + 2  # three notifications, two of their attempts failed
    assert len(receiver.got) == tried  # no attempt was made twice


async def _tried(stack: Stack) -> bool:
    rows = (await stack.http.get("/v1/triggers/shop-hook/history")).json()
    return any(row.get("notify", {}).get("attempts") for row in rows)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (("    url: URL\n", ""), "target.notify (line 7): give exactly one of url or url_env"),
        (
            ("secret_env: BOXOPS_NOTIFY_TEST_SECRET", "secret_env: BOXOPS_NOTIFY_UNSET"),
            "target.notify.secret_env: BOXOPS_NOTIFY_UNSET is not set in the trigger service",
        ),
        (
            ("    url: URL\n", "    url: URL\n    text: 'sold {{ event.amount'\n"),
            "target.notify.text (line 8): template error",
        ),
    ],
)
async def test_a_bad_notify_spec_is_refused_at_apply_time(
    stack: Stack, change: tuple[str, str], error: str
) -> None:
    text = webhook("URL").replace(*change).replace("URL", "http://127.0.0.1:9/hook")
    response = await apply(stack, text)
    assert response.status_code == 422
    assert error in json.dumps(response.json())
