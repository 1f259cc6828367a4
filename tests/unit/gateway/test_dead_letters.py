"""A dead letter as people read it, and the `since` they may give."""

from datetime import UTC, datetime, timedelta

import pytest

from services.gateway import dead_letters
from services.gateway.dead_letters import EPOCH, letter, since_of

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_a_dead_letter_keeps_its_own_headers_apart_from_the_dlq_and_jetstream_ones() -> None:
    headers = {
        "ce-id": "ev1",
        "traceparent": "00-abc-def-01",
        "boxops-dlq-reason": "body is not JSON",
        "boxops-dlq-consumer": "boxops/registry",
        "Nats-Msg-Id": "dlq:BOXOPS_EVENTS.7",
        "Nats-Expected-Stream": "BOXOPS_DLQ",
    }
    entry = letter(3, "dlq.dataset.version.created", headers, b"{not json", NOW)
    assert entry.model_dump() == {
        "id": 3,
        "subject": "dataset.version.created",
        "reason": "body is not JSON",
        "consumer": "boxops/registry",
        "at": NOW,
        "headers": {"ce-id": "ev1", "traceparent": "00-abc-def-01"},
        "data": "{not json",
    }
    assert letter(4, "dlq.ext.a", {}, b'{"a": 1}', NOW).data == {"a": 1}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, EPOCH),
        ("24h", NOW - timedelta(hours=24)),
        ("90m", NOW - timedelta(minutes=90)),
        ("2026-12-01T10:00:00Z", datetime(2026, 12, 1, 10, tzinfo=UTC)),
        ("2026-12-01T10:00:00", datetime(2026, 12, 1, 10, tzinfo=UTC)),
    ],
)
def test_since_is_an_iso_time_or_a_period_back_from_now(
    text: str | None, expected: datetime
) -> None:
    assert since_of(text, NOW) == expected


def test_a_since_that_is_neither_says_so() -> None:
    with pytest.raises(ValueError, match="'last week' is neither an ISO time nor a period"):
        since_of("last week", NOW)


@pytest.mark.parametrize(
    ("subject", "replayed"),
    [
        ("run.requested", True),
        ("run.abort.requested", True),
        ("dataset.version.created", True),
        ("ext.orders.placed", True),
        ("run.completed", False),
        ("$JS.API.STREAM.UPDATE.BOXOPS_EVENTS", False),
        ("svc.registry.components.get", False),
        ("dlq.run.requested", False),
        ("hooks.alertmanager", False),
    ],
)
def test_a_replay_puts_back_only_commands_and_public_subjects(subject: str, replayed: bool) -> None:
    """Any service may dead-letter any subject: a planted `$JS.API…` or another service's
    event must not go out under the gateway's identity."""
    assert dead_letters.replayable(subject) is replayed


def test_a_hooks_refused_body_is_not_replayed_its_sender_is_fixed() -> None:
    with pytest.raises(dead_letters.NotReplayable, match=r"hooks\.git-push keeps bodies a hook"):
        dead_letters.check_replayable({"hooks.git-push", "ext.orders.placed"})
