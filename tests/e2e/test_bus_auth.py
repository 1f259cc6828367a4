"""The embedded stack's bus refuses what a service did not send: forged platform events
from a client with ingress credentials or with none are refused by NATS and change nothing;
credentials made for another system publish only the subjects they were made for; and the
NATS URL stays the same across restarts."""

import asyncio
import contextlib
import json
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js.errors import NotFoundError

from shared import bus_permissions
from shared.bus import stream_of
from shared.credentials import nats_login
from tests.conftest import free_port
from tests.e2e.test_embedded_stack import boxops

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    env["BOXOPS_HOME"] = str(tmp_path_factory.mktemp("bus") / "home")
    started = boxops(env, "up", "--detach", "--port", str(free_port()))
    assert started.returncode == 0, started.stderr + started.stdout
    yield env
    boxops(env, "down")


def status(env: dict[str, str]) -> dict[str, Any]:
    shown = boxops(env, "status", "--json")
    assert shown.returncode == 0, shown.stderr
    return dict(json.loads(shown.stdout))


def run_json(env: dict[str, str], group: str, command: str, *args: str) -> Any:
    done = boxops(env, group, command, "--json", *args)
    assert done.returncode == 0, done.stderr + done.stdout
    return json.loads(done.stdout)


def wait_for(condition: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)
    return value


def forgeries(run_id: str) -> dict[str, bytes]:
    """The issue's forged events (each marked `forged`): run a command, end, complete and
    abort a run."""
    at = "2026-01-01T00:00:00Z"
    node = os.uname().nodename
    model = {"kind": "model", "name": "forged-model", "version": 1}
    events: dict[str, dict[str, Any]] = {
        f"run.dispatched.{node}": {
            "run_id": "forged-run",
            "state": "running",
            "at": at,
            "executor_id": node,
            "command": ["touch", "owned"],
        },
        "executor.run.ended": {
            "run_id": run_id,
            "executor_id": node,
            "exit_code": 0,
            "reason": "forged",
            "at": at,
        },
        "run.completed": {
            "run_id": "forged-run",
            "state": "completed",
            "at": at,
            "outputs": {"model": model},
        },
        "run.abort.requested": {"run_id": run_id, "reason": "forged"},
    }
    return {subject: json.dumps(body).encode() for subject, body in events.items()}


async def refused_publishes(
    url: str, login: dict[str, str], messages: dict[str, bytes]
) -> list[str]:
    """Publish each body on its subject; the server's complaints (one per refused subject)."""
    errors: list[str] = []
    all_refused = asyncio.Event()

    async def collect(error: Exception) -> None:
        errors.append(str(error))
        if len(errors) == len(messages):
            all_refused.set()

    client = await nats.connect(url, error_cb=collect, allow_reconnect=False, **login)
    try:
        for subject, body in messages.items():
            await client.publish(subject, body)
        await client.flush()
        # The server answers each refusal on its own; an allowed publish gets no answer.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_refused.wait(), 3.0)
    finally:
        await client.close()
    return errors


async def stored(url: str, login: dict[str, str], subject: str) -> list[bytes]:
    """Every body JetStream holds on `subject` (read as the operator)."""
    client = await nats.connect(url, allow_reconnect=False, **login)
    js, found, seq = client.jetstream(), [], 1
    try:
        while True:
            try:
                message = await js.get_msg(stream_of(subject).name, seq, next=True, subject=subject)
            except NotFoundError:
                return found
            found.append(message.data or b"")
            seq = (message.seq or seq) + 1
    finally:
        await client.close()


def test_forged_platform_events_are_refused_and_change_nothing(stack: dict[str, str]) -> None:
    home = Path(stack["BOXOPS_HOME"])
    shown = status(stack)
    url, ingress = shown["nats_url"], nats_login(Path(shown["ingress_credentials"]))
    operator = nats_login(home / "bus" / "admin.env")
    running = run_json(stack, "runs", "submit", "--", "sleep", "60")["id"]
    wait_for(lambda: run_json(stack, "runs", "show", running)["state"] == "running")
    forged = forgeries(running)

    errors = asyncio.run(refused_publishes(url, ingress, forged))
    for subject in forged:
        assert any(f'permissions violation for publish to "{subject}"' in e for e in errors), (
            subject,
            errors,
        )
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        asyncio.run(refused_publishes(url, {}, forged))

    for subject in forged:
        assert not [b for b in asyncio.run(stored(url, operator, subject)) if b"forged" in b]
    assert run_json(stack, "runs", "show", running)["state"] == "running"
    assert not [m for m in run_json(stack, "models", "list") if m["name"] == "forged-model"]
    # The check above can see a stored message: a public subject the ingress may publish.
    announced = {"dataset.version.created": b'{"dataset": "forged-check"}'}
    assert not asyncio.run(refused_publishes(url, ingress, announced))
    assert announced["dataset.version.created"] in asyncio.run(
        stored(url, operator, "dataset.version.created")
    )
    boxops(stack, "runs", "abort", running)


def test_credentials_made_for_a_system_publish_only_their_subjects(
    stack: dict[str, str], tmp_path: Path
) -> None:
    home = Path(stack["BOXOPS_HOME"])
    out = tmp_path / "shop.env"
    made = boxops(stack, "creds", "create", "--publish", "ext.shop.sale", "--out", str(out))
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    login = nats_login(out)
    url = status(stack)["nats_url"]
    assert f"NATS_URL={url}\n" in out.read_text()

    # The server reloads its config on a signal: the new user is known a moment later.
    def allowed() -> bool:
        try:
            return not asyncio.run(refused_publishes(url, login, {"ext.shop.sale": b"{}"}))
        except nats.errors.Error:
            return False

    wait_for(allowed)
    operator = nats_login(home / "bus" / "admin.env")
    assert asyncio.run(stored(url, operator, "ext.shop.sale")) == [b"{}"]
    refused = asyncio.run(refused_publishes(url, login, {"metric.logged": b"{}"}))
    assert any("permissions violation" in e for e in refused), refused

    wrong = boxops(stack, "creds", "create", "--publish", "run.completed")
    assert wrong.returncode == 2
    assert len(wrong.stderr.strip().splitlines()) == 1
    assert "not public subjects: run.completed" in wrong.stderr


def test_the_services_never_overstep_their_permissions(stack: dict[str, str]) -> None:
    """A whole run under the permissions: NATS refused no service anything (it logs each
    refusal, as it did the forgeries above)."""
    done = run_json(stack, "runs", "submit", "--wait", "--", "python", "-c", "print('ok')")
    assert done["state"] == "completed", done
    # What reads through consumers of its own, beside the services' durables: stored and
    # followed logs, the dead letters, a trigger's dry run.
    for command in (
        ("runs", "logs", done["id"]),
        ("runs", "logs", "--follow", done["id"]),
        ("dlq", "list"),
        ("triggers", "test", str(EXAMPLES / "iris" / "retrain.yaml")),
    ):
        shown = boxops(stack, *command)
        assert shown.returncode == 0, (command, shown.stderr)
    log = (Path(stack["BOXOPS_HOME"]) / "logs" / "nats.log").read_text()
    refusals = [line for line in log.splitlines() if "Violation" in line]
    assert any('/user:ingress" - Publish Violation' in line for line in refusals), refusals
    services = [f'/user:{name}"' for name in bus_permissions.SERVICES]
    assert not [line for line in refusals if any(user in line for user in services)]


def test_not_even_a_service_may_purge_a_stream(stack: dict[str, str]) -> None:
    """After the test above: this refusal is a service's, on purpose."""
    home = Path(stack["BOXOPS_HOME"])
    executor = nats_login(home / "bus" / "executor.env")
    purge = {"$JS.API.STREAM.PURGE.BOXOPS_EVENTS": b"{}"}
    refused = asyncio.run(refused_publishes(status(stack)["nats_url"], executor, purge))
    assert any("permissions violation" in error for error in refused), refused
    operator = nats_login(home / "bus" / "admin.env")
    assert asyncio.run(stored(status(stack)["nats_url"], operator, "run.completed"))


def test_a_service_may_neither_shrink_a_stream_nor_delete_another_services_consumer(
    stack: dict[str, str],
) -> None:
    """After the services ran under the permissions: these refusals are a service's, on
    purpose. `max_msgs: 1` would have been a purge by another name."""
    home, url = Path(stack["BOXOPS_HOME"]), status(stack)["nats_url"]
    shrunk = {"name": "BOXOPS_EVENTS", "subjects": ["run.>"], "max_msgs": 1}
    attacks = {
        "$JS.API.STREAM.UPDATE.BOXOPS_EVENTS": json.dumps(shrunk).encode(),
        "$JS.API.CONSUMER.DELETE.BOXOPS_EVENTS.scheduler-requests": b"",
    }
    for service in ("executor", "gateway", "trigger"):
        login = nats_login(home / "bus" / f"{service}.env")
        refused = asyncio.run(refused_publishes(url, login, attacks))
        for subject in attacks:
            assert any(f'publish to "{subject.lower()}"' in e.lower() for e in refused), (
                service,
                refused,
            )
    operator = nats_login(home / "bus" / "admin.env")
    assert asyncio.run(kept(url, operator)) == (-1, "scheduler-requests")


async def kept(url: str, login: dict[str, str]) -> tuple[int, str]:
    """The events stream's message limit and the scheduler's request consumer, as they are."""
    client = await nats.connect(url, allow_reconnect=False, **login)
    try:
        js = client.jetstream()
        limit = (await js.stream_info("BOXOPS_EVENTS")).config.max_msgs
        consumer = await js.consumer_info("BOXOPS_EVENTS", "scheduler-requests")
        return int(limit if limit is not None else -1), str(consumer.name)
    finally:
        await client.close()


def test_the_nats_url_is_printed_first_and_kept_across_restarts(stack: dict[str, str]) -> None:
    first = status(stack)["nats_url"]
    text = boxops(stack, "status")
    assert text.stdout.splitlines()[0].split() == ["nats", first]
    assert boxops(stack, "down").returncode == 0
    again = boxops(stack, "up", "--detach", "--port", str(free_port()))
    assert again.returncode == 0, again.stderr + again.stdout
    assert status(stack)["nats_url"] == first
