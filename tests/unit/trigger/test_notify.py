"""Notify targets: the spec, the message, its signature and the retry schedule. Pure."""

import hashlib
import hmac
import json

import pytest

from services.trigger.bindings import MissingBinding
from services.trigger.notify import (
    Answer,
    body,
    content_type,
    delay,
    message,
    outcome,
    schedule,
)
from services.trigger.policy import decide
from shared.body_signature import signature
from shared.notify_specs import Notify
from shared.specs import SpecError, load
from shared.trigger_specs import TriggerSpec

SPEC = """kind: trigger
name: tell-the-channel
event: {subject: run.failed}
target:
  notify:
    url: https://chat.example.com/hooks/abc
    text: "run {{ event.run_id }} failed: {{ event.reason }}"
"""
FAILED = {"run_id": "r1", "state": "failed", "reason": "exit code 2", "at": "2026-12-07T10:00:00"}
ATTRIBUTES = {"id": "e1", "source": "scheduler", "type": "dev.boxops.run.failed", "time": "t"}


def spec(text: str = SPEC) -> TriggerSpec:
    loaded = load(text, {"trigger": TriggerSpec})
    assert isinstance(loaded, TriggerSpec)
    return loaded


def refusal(text: str) -> str:
    with pytest.raises(SpecError) as refused:
        spec(text)
    return str(refused.value)


def test_a_notify_target_is_one_target_among_the_others() -> None:
    notify = spec().target.notify
    assert notify is not None
    assert (notify.attempts, notify.backoff, notify.max_backoff, notify.timeout) == (5, 2, 300, 10)
    both = SPEC.replace("  notify:", "  command: [echo]\n  notify:")
    assert "give exactly one of component, pipeline, command or notify" in refusal(both)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (
            ("url: https://chat.example.com/hooks/abc", "attempts: 3"),
            "target.notify (line 6): give exactly one of url or url_env",
        ),
        (("url: https://chat.example.com/hooks/abc", "url: ftp://x"), "target.notify.url (line 6)"),
        (("{{ event.reason }}", "{{ event.reason"), "target.notify.text (line 7): template error"),
        (("{{ event.reason }}", "{% if x %}"), "target.notify.text (line 7): template error"),
        (("{{ event.reason }}", "{{ event.reason | upper }}"), "target.notify.text (line 7)"),
        (
            ("{{ event.reason }}", "{{ event.reasn }}"),
            "target.notify.text: {{ event.reasn }}: run.failed has no field 'reasn'",
        ),
        (("{{ event.reason }}", "{{ events.a.b }}"), "binding {{ events.a.b }} is not available"),
        (("    text:", "    secret: s3cret\n    text:"), "target.notify.secret (line 7): Extra"),
        (
            ("    text:", "    secret_env: HOME\n    text:"),
            "target.notify.secret_env (line 7): 'HOME' is not an environment variable a "
            "notification may read: its name starts with BOXOPS_NOTIFY_",
        ),
        (("    text:", "    attempts: 0\n    text:"), "target.notify.attempts (line 7)"),
        (("    text:", "    backoff: soon\n    text:"), "target.notify.backoff (line 7)"),
        (("  notify:", "  params: {a: 1}\n  notify:"), "a notify target takes no params or inputs"),
    ],
)
def test_a_bad_notify_spec_is_refused_naming_the_field(change: tuple[str, str], error: str) -> None:
    assert error in refusal(SPEC.replace(*change))


def test_the_url_and_the_secret_may_be_named_not_given() -> None:
    text = SPEC.replace(
        "url: https://chat.example.com/hooks/abc",
        "url_env: BOXOPS_NOTIFY_CHAT_URL\n    secret_env: BOXOPS_NOTIFY_KEY",
    )
    notify = spec(text).target.notify
    assert notify is not None
    assert notify.model_dump(mode="json")["url_env"] == "BOXOPS_NOTIFY_CHAT_URL"


def test_fields_of_other_systems_subjects_are_not_checked() -> None:
    text = SPEC.replace("run.failed", "ext.shop.sold").replace("event.reason", "event.anything")
    assert spec(text).target.notify is not None


def test_a_chat_message_is_rendered_from_the_event() -> None:
    notify = spec().target.notify
    assert notify is not None
    sent = message(notify, {"event": FAILED}, ATTRIBUTES)
    assert sent == {"text": "run r1 failed: exit code 2"}
    assert content_type(notify) == "application/json"
    with pytest.raises(MissingBinding, match=r"event\.reason"):
        message(notify, {"event": {"run_id": "r1"}}, ATTRIBUTES)


def test_without_text_the_event_is_sent_as_a_structured_cloudevent() -> None:
    notify = Notify(url="https://receiver.example.com/")
    sent = message(notify, {"event": FAILED, "trigger": {"name": "t"}}, ATTRIBUTES)
    assert sent == {
        "specversion": "1.0",
        **ATTRIBUTES,
        "datacontenttype": "application/json",
        "data": FAILED,
    }
    assert content_type(notify) == "application/cloudevents+json"


def test_the_policy_keeps_the_message_as_the_firings_params_and_skips_a_missing_value() -> None:
    trigger = spec()
    fired = decide(trigger, {"event": FAILED}, depth=0, active_runs=[], attributes=ATTRIBUTES)
    assert (fired.action, fired.params) == ("fire", {"text": "run r1 failed: exit code 2"})
    skipped = decide(trigger, {"event": {"run_id": "r1"}}, depth=0, active_runs=[])
    assert (skipped.action, skipped.reason) == (
        "skip",
        "binding {{ event.reason }} has no value in this event",
    )


def test_the_signature_is_the_hmac_sha256_of_the_raw_body() -> None:
    payload = body({"text": "é ok"})
    assert payload == '{"text":"é ok"}'.encode()
    expected = hmac.new(b"key", payload, hashlib.sha256).hexdigest()
    assert signature("key", payload) == f"sha256={expected}"
    assert signature("other", payload) != signature("key", payload)
    assert json.loads(payload) == {"text": "é ok"}


def test_the_backoff_doubles_up_to_its_cap() -> None:
    assert schedule(Notify(url="https://r.example.com/")) == [2, 4, 8, 16]
    capped = Notify(url="https://r.example.com/", attempts=8, backoff=10, max_backoff=60)
    assert schedule(capped) == [10, 20, 40, 60, 60, 60, 60]
    assert delay(capped, 1) == 10


@pytest.mark.parametrize(
    ("attempt", "answer", "expected"),
    [
        (1, Answer(200), "delivered"),
        (1, Answer(204), "delivered"),
        (1, Answer(500), "retry"),
        (1, Answer(429), "retry"),
        (1, Answer(error="ConnectError: refused"), "retry"),
        (1, Answer(404), "failed"),  # the same answer every time: not retried
        (1, Answer(301), "failed"),
        (5, Answer(503), "failed"),  # the last attempt
        (5, Answer(200), "delivered"),
    ],
)
def test_what_follows_an_attempt(attempt: int, answer: Answer, expected: str) -> None:
    notify = Notify(url="https://r.example.com/")
    assert outcome(notify, attempt, answer) == expected


def test_an_answer_says_why_it_failed() -> None:
    assert Answer(503).reason == "HTTP 503"
    assert Answer(error="ReadTimeout").reason == "ReadTimeout"
