"""Monitoring systems' alerts and other systems' webhooks in, on a live stack: real NATS, the
trigger service, scheduler, executor, and a gateway with authentication on (as another
replica beside the stack's): an alert starts a run with its labels bound, its repeat
starts none; a bad signature publishes nothing; a bad body is a 4xx and a dead letter."""

import copy
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from services.gateway.signatures import signature
from shared.bus import CUSTOM, EVENTS
from tests.integration.conftest import Stack, start_stack, stop_stack, wait_run
from tests.integration.gateway_auth import TOKEN, Gateway, bearer, running_gateway
from tests.integration.test_component_runs import register
from tests.integration.test_triggers import apply, fired, history
from tests.unit.gateway.alert_payloads import ALERTMANAGER, GRAFANA

RETRAIN = """
kind: component
name: retrain
type: training
command: [echo, "retrain {{ params.model }} on {{ params.dataset }}"]
params:
  model: {type: str, required: true}
  dataset: {type: str, required: true}
"""
ON_DRIFT = """
kind: trigger
name: retrain-on-drift
target:
  component: retrain
  params:
    model: "{{ event.labels.model }}"
    dataset: "{{ event.labels.dataset }}"
event:
  subject: alert.firing
  where: {labels.alertname: ModelDrift, labels.severity: critical}
"""
ON_CROSSING = """
kind: trigger
name: on-psi
target:
  command: [echo, "psi {{ event.value }} over {{ event.threshold }}"]
event:
  subject: metric.above_threshold
  where: {metric: psi}
"""


@pytest.fixture
async def stack(nats_url: str, db: tuple[str, str], tmp_path: Path) -> AsyncIterator[Stack]:
    services = ("trigger", "registry")
    running = await start_stack(nats_url, db, tmp_path / "home", services=services)
    yield running
    await stop_stack(running)


@pytest.fixture
async def gateway(nats_url: str, tmp_path: Path) -> AsyncIterator[Gateway]:
    async for running in running_gateway(nats_url, tmp_path / "hooks-gateway"):
        yield running


async def alert(gateway: Gateway, token: str, payload: dict[str, Any]) -> dict[str, Any]:
    answer = await gateway.http.post("/v1/hooks/alertmanager", json=payload, headers=bearer(token))
    assert answer.status_code == 202, answer.text
    return answer.json()


def another_alert(model: str) -> dict[str, Any]:
    payload = copy.deepcopy(ALERTMANAGER)
    payload["alerts"] = payload["alerts"][:1]
    payload["alerts"][0]["labels"]["model"] = model
    payload["alerts"][0]["fingerprint"] = f"f-{model}"
    payload["alerts"][0]["annotations"] = {"summary": "drift"}
    return payload


async def stored(gateway: Gateway, stream: str) -> int:
    info = await gateway.app.state.service.bus.nats.jetstream.stream_info(stream)
    return int(info.state.messages)


async def test_an_alert_starts_a_run_with_its_labels_and_its_repeat_starts_none(
    stack: Stack, gateway: Gateway
) -> None:
    await register(stack, RETRAIN)
    await apply(stack, ON_DRIFT)
    await apply(stack, ON_CROSSING)
    token = await gateway.token("alertmanager", "hook")

    first = await alert(gateway, token, ALERTMANAGER)
    assert len(first["published"]) == 3  # firing, its crossing, and the resolved one
    [firing] = await fired(stack, "retrain-on-drift", 1)
    run = await wait_run(stack.http, firing["run_id"])
    assert run["state"] == "completed"
    assert run["params"] == {"model": "churn", "dataset": "customers"}
    assert run["command"] == ["echo", "retrain churn on customers"]
    assert firing["event_id"] == first["published"][0]
    [crossing] = await fired(stack, "on-psi", 1)
    assert (await wait_run(stack.http, crossing["run_id"]))["command"] == [
        "echo",
        "psi 0.31 over 0.2",
    ]

    again = await alert(gateway, token, copy.deepcopy(ALERTMANAGER))
    assert again == {"published": [], "repeated": first["published"]}
    # A later alert, once it fired, shows the repeat was handled and fired nothing.
    await alert(gateway, token, another_alert("fraud"))
    rows = await fired(stack, "retrain-on-drift", 2)
    [later] = [row for row in rows if row["run_id"] != firing["run_id"]]
    assert (await wait_run(stack.http, later["run_id"]))["params"]["model"] == "fraud"
    assert len(await history(stack, "retrain-on-drift")) == 2


async def test_grafanas_notification_is_the_same_events(gateway: Gateway) -> None:
    token = await gateway.token("grafana", "hook")
    before = await stored(gateway, EVENTS.name)
    answer = await gateway.http.post("/v1/hooks/grafana", json=GRAFANA, headers=bearer(token))
    assert answer.status_code == 202, answer.text
    assert len(answer.json()["published"]) == 2
    assert await stored(gateway, EVENTS.name) == before + 2
    nats = gateway.app.state.service.bus.nats.jetstream
    last = await nats.get_last_msg(EVENTS.name, "alert.firing")
    data = json.loads(last.data)
    assert data["labels"]["alertname"] == "High CPU usage"
    assert data["values"] == {"B": 44.23943737541908, "C": 1}
    assert data["source"] == "grafana"


async def test_a_hook_token_opens_the_alert_hooks_only(gateway: Gateway) -> None:
    token = await gateway.token("alertmanager", "hook")
    for method, path in (("GET", "/v1/runs"), ("POST", "/v1/events/ext.x"), ("GET", "/v1/hooks")):
        answer = await gateway.http.request(method, path, json={}, headers=bearer(token))
        assert answer.status_code == 403, (path, answer.text)
        assert "token 'alertmanager' has hook" in answer.json()["detail"]
    writer = await gateway.token("writer", "write")
    for path in ("/v1/hooks/alertmanager", "/v1/hooks/grafana"):
        refused = await gateway.http.post(path, json=ALERTMANAGER, headers=bearer(writer))
        assert refused.status_code == 403, refused.text
        assert (await gateway.http.post(path, json=ALERTMANAGER)).status_code == 401


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "alertmanager: (body): Invalid JSON"),
        (b"{not json", "alertmanager: (body): Invalid JSON"),
        (json.dumps(ALERTMANAGER | {"version": "3"}).encode(), "version: Input should be '4'"),
        (json.dumps({"receiver": "x"}).encode(), "status: Field required"),
    ],
)
async def test_a_bad_body_is_refused_with_the_reason_and_kept_as_a_dead_letter(
    gateway: Gateway, body: bytes, problem: str
) -> None:
    token = await gateway.token("alertmanager", "hook")
    before = await stored(gateway, EVENTS.name)
    answer = await gateway.http.post("/v1/hooks/alertmanager", content=body, headers=bearer(token))
    assert answer.status_code == 422, answer.text
    assert problem in answer.json()["detail"]
    letters = await gateway.http.get(
        "/v1/dlq", params={"subject": "hooks.alertmanager"}, headers=bearer(TOKEN)
    )
    [letter] = letters.json()
    assert problem in letter["reason"]
    assert await stored(gateway, EVENTS.name) == before
    replay = await gateway.http.post(f"/v1/dlq/{letter['id']}/replay", headers=bearer(TOKEN))
    assert replay.status_code == 403
    assert "fix the sender" in replay.json()["detail"]


async def test_a_hook_called_past_its_rate_is_told_when_to_come_back(
    nats_url: str, tmp_path: Path
) -> None:
    settings = {"hook_burst": 2, "hook_rate_per_minute": 1}
    async for gateway in running_gateway(nats_url, tmp_path / "home", **settings):
        token = await gateway.token("alertmanager", "hook")
        for _ in range(2):
            await alert(gateway, token, ALERTMANAGER)
        refused = await gateway.http.post(
            "/v1/hooks/alertmanager", json=ALERTMANAGER, headers=bearer(token)
        )
        assert refused.status_code == 429, refused.text
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert "takes 1 calls a minute" in refused.json()["detail"]
        other = await gateway.http.post("/v1/hooks/grafana", json=GRAFANA, headers=bearer(token))
        assert other.status_code == 202, other.text  # each hook has its own rate


GIT_PUSH = {
    "ref": "refs/heads/main",
    "after": "9f8e7d6c",
    "repository": {"full_name": "acme/churn"},
}


async def make_hook(gateway: Gateway, **body: Any) -> dict[str, Any]:
    answer = await gateway.http.post("/v1/hooks", json=body, headers=bearer(TOKEN))
    assert answer.status_code == 201, answer.text
    return answer.json()


def signed(secret: str, body: bytes, delivery: str, at: float | None = None) -> dict[str, str]:
    return {
        "X-Hub-Signature-256": signature(secret, body),
        "X-Hook-Timestamp": str(int(time.time() if at is None else at)),
        "X-Hook-Delivery": delivery,
        "content-type": "application/json",
    }


async def test_a_signed_hook_publishes_its_mapped_body_once_per_delivery(
    gateway: Gateway,
) -> None:
    mapping = {"repo": "repository.full_name", "commit": "after"}
    hook = await make_hook(gateway, name="git-push", mapping=mapping)
    assert hook["subject"] == "ext.hook.git-push"
    assert hook["url"] == "/v1/hooks/git-push"
    secret, body = hook["secret"], json.dumps(GIT_PUSH).encode()
    listed = (await gateway.http.get("/v1/hooks", headers=bearer(TOKEN))).json()
    assert [h["name"] for h in listed] == ["git-push"]
    assert "secret" not in listed[0]

    answer = await gateway.http.post(
        "/v1/hooks/git-push", content=body, headers=signed(secret, body, "d-1")
    )
    assert answer.status_code == 202, answer.text
    [event_id] = answer.json()["published"]
    nats = gateway.app.state.service.bus.nats.jetstream
    message = await nats.get_last_msg(CUSTOM.name, "ext.hook.git-push")
    assert json.loads(message.data) == {"repo": "acme/churn", "commit": "9f8e7d6c"}
    assert message.headers and message.headers["ce-id"] == event_id
    count = await stored(gateway, CUSTOM.name)

    for delivery, problem in (("d-1", "'d-1' was received already"), ("d-2", "a replay")):
        replayed = await gateway.http.post(
            "/v1/hooks/git-push", content=body, headers=signed(secret, body, delivery)
        )
        assert replayed.status_code == 409, replayed.text
        assert problem in replayed.json()["detail"]
    assert await stored(gateway, CUSTOM.name) == count


async def test_a_signed_hooks_rate_is_used_only_by_signed_deliveries_and_its_body_is_bounded(
    nats_url: str, tmp_path: Path
) -> None:
    settings = {"hook_burst": 2, "hook_rate_per_minute": 1}
    async for gateway in running_gateway(nats_url, tmp_path / "home", **settings):
        hook = await make_hook(gateway, name="warehouse", subject="ext.warehouse.loaded")
        body = json.dumps({"table": "sales"}).encode()
        for n in range(5):  # junk from anyone: refused, and the sender's rate is untouched
            junk = signed("not-the-secret", body, f"junk-{n}")
            answer = await gateway.http.post("/v1/hooks/warehouse", content=body, headers=junk)
            assert answer.status_code == 401, answer.text
        for n in range(2):
            sent = signed(hook["secret"], body + b" " * n, f"d-{n}")
            answer = await gateway.http.post(
                "/v1/hooks/warehouse", content=body + b" " * n, headers=sent
            )
            assert answer.status_code == 202, answer.text
        big = b'{"table": "' + b"x" * (1024 * 1024) + b'"}'
        answer = await gateway.http.post(
            "/v1/hooks/warehouse", content=big, headers=signed(hook["secret"], big, "d-big")
        )
        assert answer.status_code == 413, answer.text
        assert "at most 1,048,576 bytes" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("headers", "problem"),
    [
        ({"X-Hub-Signature-256": "sha256=" + "0" * 64}, "missing or wrong X-Hub-Signature-256"),
        ({"X-Hub-Signature-256": ""}, "missing or wrong X-Hub-Signature-256"),
        ({"X-Hook-Timestamp": str(int(time.time()) - 3600)}, "outside 300 s"),
        ({"X-Hook-Timestamp": ""}, "missing header X-Hook-Timestamp"),
        ({"X-Hook-Delivery": ""}, "missing header X-Hook-Delivery"),
    ],
)
async def test_a_delivery_not_signed_or_not_fresh_is_refused_and_publishes_nothing(
    gateway: Gateway, headers: dict[str, str], problem: str
) -> None:
    hook = await make_hook(gateway, name="warehouse", subject="ext.warehouse.loaded")
    body = json.dumps({"table": "sales"}).encode()
    before = await stored(gateway, CUSTOM.name)
    sent = signed(hook["secret"], body, "d-1") | headers
    answer = await gateway.http.post("/v1/hooks/warehouse", content=body, headers=sent)
    assert answer.status_code == 401, answer.text
    assert problem in answer.json()["detail"]
    assert await stored(gateway, CUSTOM.name) == before
    letters = await gateway.http.get("/v1/dlq", headers=bearer(TOKEN))
    assert letters.json() == []  # an unsigned body is nobody's: not kept


async def test_a_signed_body_that_makes_no_event_is_refused_and_kept_as_a_dead_letter(
    gateway: Gateway,
) -> None:
    hook = await make_hook(gateway, name="git-push", mapping={"repo": "repository.full_name"})
    body = json.dumps({"ref": "refs/heads/main"}).encode()
    answer = await gateway.http.post(
        "/v1/hooks/git-push", content=body, headers=signed(hook["secret"], body, "d-9")
    )
    assert answer.status_code == 422, answer.text
    reason = "hook 'git-push': repo: the body has no 'repository.full_name'"
    assert answer.json()["detail"] == reason
    letters = await gateway.http.get(
        "/v1/dlq", params={"subject": "hooks.git-push"}, headers=bearer(TOKEN)
    )
    [letter] = letters.json()
    assert letter["reason"] == answer.json()["detail"]


async def test_hooks_are_made_with_a_public_subject_and_a_name_of_their_own(
    gateway: Gateway,
) -> None:
    for body, problem in (
        ({"name": "x", "subject": "run.requested"}, "'run.requested' is not public"),
        ({"name": "x", "subject": "ext.a b"}, "is not a subject"),
        ({"name": "alertmanager"}, "the built-in alertmanager hook's name"),
        ({"name": "x", "secret": "short"}, "at least 16 characters"),
        ({"name": "x", "secret": "a-secret-with-a-\u0000-in-it"}, "NUL"),  # fuzzing found it
    ):
        answer = await gateway.http.post("/v1/hooks", json=body, headers=bearer(TOKEN))
        assert answer.status_code == 422, answer.text
        assert problem in answer.text
    await make_hook(gateway, name="x", subject="dataset.version.created")
    taken = await gateway.http.post("/v1/hooks", json={"name": "x"}, headers=bearer(TOKEN))
    assert taken.status_code == 409
    assert (await gateway.http.delete("/v1/hooks/x", headers=bearer(TOKEN))).status_code == 200
    gone = await gateway.http.post("/v1/hooks/x", content=b"{}", headers=signed("s", b"{}", "d"))
    assert gone.status_code == 404


async def test_the_openapi_document_says_a_generic_hook_is_signed_not_tokened(
    gateway: Gateway,
) -> None:
    document = (await gateway.http.get("/openapi.json")).json()
    receive = document["paths"]["/v1/hooks/{name}"]["post"]
    assert receive["x-signed"] is True
    assert "X-Hub-Signature-256" in receive["description"]
    assert document["paths"]["/v1/hooks/alertmanager"]["post"]["x-signed"] is False


ON_PUSH = """
kind: trigger
name: train-on-push
target:
  component: retrain
  params: {model: "{{ event.repo }}", dataset: "{{ event.commit }}"}
event:
  subject: ext.hook.git-push
  where: {ref: refs/heads/main}
"""
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "hooks"


async def test_a_signed_delivery_starts_a_run_with_its_mapped_fields_and_the_examples_apply(
    stack: Stack, gateway: Gateway
) -> None:
    for example in sorted(EXAMPLES.glob("*.yaml")):
        assert (await apply(stack, example.read_text()))["change"] == "created", example
    await register(stack, RETRAIN)
    await apply(stack, ON_PUSH)
    mapping = {"ref": "ref", "repo": "repository.full_name", "commit": "after"}
    hook = await make_hook(gateway, name="git-push", mapping=mapping)
    body = json.dumps(GIT_PUSH).encode()
    answer = await gateway.http.post(
        "/v1/hooks/git-push", content=body, headers=signed(hook["secret"], body, "d-1")
    )
    assert answer.status_code == 202, answer.text
    [firing] = await fired(stack, "train-on-push", 1)
    assert firing["event_id"] == answer.json()["published"][0]
    run = await wait_run(stack.http, firing["run_id"])
    assert run["params"] == {"model": "acme/churn", "dataset": "9f8e7d6c"}
