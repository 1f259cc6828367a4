"""The events pages as a browser without JavaScript sees them: the live tail's page with a
message for a bad subject, and the dead letters (a real scheduler dead-letters a message it
cannot read) with their reasons and a Replay button only for an admin token."""

from typing import Any

from shared.bus import new_id
from tests.conftest import eventually
from tests.integration.ui_automation_stack import (  # noqa: F401
    UiStack,
    csrf_of,
    sqlite_db,
    ui_stack_fixture,
)


async def dead_letter(ui_stack: UiStack) -> dict[str, Any]:
    """A run request the scheduler cannot read, published past the gateway's checks."""
    body = b'{"command": "not a list"}'
    await ui_stack.stack.gateway_service.bus.nats.publish(
        "run.requested", body, {"ce-id": new_id(), "Nats-Msg-Id": new_id()}
    )

    async def listed() -> list[dict[str, Any]]:
        return list((await ui_stack.api.get("/v1/dlq")).json())

    found: list[dict[str, Any]] = await eventually(listed)  # type: ignore[assignment]
    [entry] = found
    return entry


async def test_the_dead_letters_page_shows_each_with_its_reason_and_replays_it(
    ui_stack: UiStack,
) -> None:
    entry = await dead_letter(ui_stack)
    async with ui_stack.signed_in() as browser:
        page = (await browser.get("/events/dead-letters")).text
        assert f'<tr data-letter="{entry["id"]}">' in page
        assert "<code>run.requested</code>" in page
        assert entry["reason"] and entry["reason"][:40] in page
        action = f'action="/events/dead-letters/{entry["id"]}/replay"'
        assert action in page

        forged = await browser.post(action[8:-1], data={"csrf": "0" * 64})
        assert forged.status_code == 403
        answer = await browser.post(action[8:-1], data={"csrf": csrf_of(page)})
        shown = await browser.get(answer.headers["location"])
        reloaded = await browser.get(answer.headers["location"])
        again = await browser.post(action[8:-1], data={"csrf": csrf_of(page)})

    # POST-redirect-GET: the list, told what the replay did once (a reload repeats nothing).
    assert (answer.status_code, answer.headers["location"]) == (303, "/events/dead-letters")
    told = f"Dead letter {entry['id']} replayed on <code>run.requested</code>"
    assert shown.status_code == 200 and told in shown.text
    assert f'<tr data-letter="{entry["id"]}">' not in shown.text  # it left the DLQ
    assert told not in reloaded.text
    assert again.status_code == 404 and "replayed already" in again.text
    # Still unreadable: the scheduler dead-letters the replayed copy, a new entry.
    found = await eventually(lambda: _other_than(ui_stack, entry["id"]))
    assert found


async def _other_than(ui_stack: UiStack, letter_id: int) -> list[dict[str, Any]]:
    letters = (await ui_stack.api.get("/v1/dlq")).json()
    return [letter for letter in letters if letter["id"] != letter_id]


async def test_a_read_only_token_sees_no_replay_button_and_is_refused_403(
    ui_stack: UiStack,
) -> None:
    entry = await dead_letter(ui_stack)
    async with ui_stack.signed_in(await ui_stack.read_token()) as browser:
        page = (await browser.get("/events/dead-letters")).text
        path = f"/events/dead-letters/{entry['id']}/replay"
        answer = await browser.post(path, data={"csrf": csrf_of(page)})

    assert entry["reason"][:40] in page and "/replay" not in page
    assert answer.status_code == 403 and "needs scope admin" in answer.text
    assert [letter["id"] for letter in (await ui_stack.api.get("/v1/dlq")).json()] == [entry["id"]]


async def test_bad_subjects_are_a_message_and_unknown_dead_letters_a_404_page(
    ui_stack: UiStack,
) -> None:
    async with ui_stack.signed_in() as browser:
        tail = await browser.get("/events", params={"subject": "run..x"})
        outside = await browser.get("/events", params={"subject": "log.x"})
        good = await browser.get("/events", params={"subject": "run.>"})
        letters = await browser.get("/events/dead-letters", params={"subject": "a b"})
        browser.cookies.set("boxops_flash", "not-what-a-replay-keeps")
        page = (await browser.get("/events/dead-letters")).text
        missing = await browser.post(
            "/events/dead-letters/999/replay", data={"csrf": csrf_of(page)}
        )

    assert tail.status_code == 200
    assert "subject &#39;run..x&#39; is not a subject or wildcard of one" in tail.text
    assert "subject &#39;log.x&#39; is not an event subject" in outside.text
    assert 'data-stream="/v1/events/stream?subject=run.%3E"' in good.text
    assert 'role="alert"' not in good.text
    assert "subject &#39;a b&#39; is not a subject" in letters.text
    assert missing.status_code == 404 and "no dead letter 999" in missing.text
    assert 'role="status"' not in page  # a cookie that is no replay's tells nothing


async def test_a_dead_letter_only_another_service_may_publish_has_no_replay_button(
    ui_stack: UiStack,
) -> None:
    # The trigger service reads every platform event: one it cannot parse is dead-lettered.
    await ui_stack.stack.gateway_service.bus.nats.publish(
        "run.completed", b"not json", {"ce-id": new_id(), "Nats-Msg-Id": new_id()}
    )

    async def listed() -> list[dict[str, Any]]:
        return list((await ui_stack.api.get("/v1/dlq?subject=run.completed")).json())

    found: list[dict[str, Any]] = await eventually(listed)  # type: ignore[assignment]
    [entry] = found
    async with ui_stack.signed_in() as browser:
        page = (await browser.get("/events/dead-letters")).text
        path = f"/events/dead-letters/{entry['id']}/replay"
        answer = await browser.post(path, data={"csrf": csrf_of(page)})

    assert f'action="{path}"' not in page
    assert "only the service that owns run.completed publishes it" in page
    assert answer.status_code == 403 and "not replayed: only the service that owns" in answer.text
    assert 'role="alert"' in answer.text
    assert f'<tr data-letter="{entry["id"]}">' in answer.text  # still there
