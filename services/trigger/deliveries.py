"""Delivery of the notifications triggers send: at least once, apart from the event consumer.

A firing writes its delivery row with its decision; this loop claims the rows that are
due, POSTs each (no database lock is held while a receiver answers), records the attempt
in the trigger's history, and either ends the delivery or sets its next attempt after the
backoff. One that fails for good goes to `dlq.trigger.notify.<trigger>` with the reason.
"""

import asyncio
import contextlib
import logging
import os
from collections.abc import Mapping
from datetime import timedelta

import httpx

from services.trigger import store
from services.trigger.handlers import Triggers
from services.trigger.notify import (
    DELIVERY,
    SIGNATURE,
    Answer,
    content_type,
    delay,
    outcome,
)
from services.trigger.tables import AttemptRow, DeliveryRow
from shared.body_signature import signature
from shared.bus import new_id, now
from shared.notify_specs import Notify

log = logging.getLogger(__name__)

BATCH = 20  # deliveries attempted together in one round
# Past the time an attempt may take: only a replica that stopped holds a delivery longer.
LEASE_MARGIN = timedelta(seconds=5)
NOTIFY_SUBJECT = "trigger.notify"


class Deliveries:
    def __init__(
        self, triggers: Triggers, http: httpx.AsyncClient, environ: Mapping[str, str] = os.environ
    ) -> None:
        self.triggers = triggers
        self.http = http
        self.environ = environ

    async def round(self) -> int:
        """Attempt every delivery that is due, together; the number attempted. The next
        round waits for the slowest receiver of this one (at most its timeout)."""
        try:
            await self.dead_letter_failed()
        except Exception as err:
            # NATS out of reach: the dead letters wait for the next round; the deliveries,
            # which need only HTTP, go on.
            log.warning("dead-lettering failed notifications: %s", err)
        async with self.triggers.writing() as tx:
            due = await store.claim_deliveries(tx.session, now(), _lease, BATCH)
        await asyncio.gather(*(self.attempt(row) for row in due))
        return len(due)

    async def attempt(self, row: DeliveryRow) -> None:
        notify = Notify.model_validate(row.notify)
        number = row.attempts + 1
        answer = await self.post(notify, row.body.encode(), row.id)
        result = outcome(notify, number, answer)
        async with self.triggers.writing() as tx:
            delivery = await tx.session.get(DeliveryRow, row.id)
            if delivery is None or delivery.state != "pending" or delivery.attempts >= number:
                return  # another replica recorded this attempt after our lease ran out
            tx.session.add(
                AttemptRow(
                    id=new_id(),
                    delivery=row.id,
                    attempt=number,
                    at=now(),
                    status_code=answer.status_code,
                    error=answer.error,
                    outcome=result,
                )
            )
            delivery.attempts = number
            if result == "retry":
                delivery.due_at = now() + timedelta(seconds=delay(notify, number))
            else:
                delivery.state = "delivered" if result == "delivered" else "failed"
            tx.session.add(delivery)
        if result == "failed":
            with contextlib.suppress(Exception):  # else the next round dead-letters it
                await self.dead_letter_failed()

    async def post(self, notify: Notify, body: bytes, delivery: str) -> Answer:
        """One attempt: the receiver's status, or why there was none. Every attempt of a
        delivery carries its id, so a receiver can drop a repeat (delivery is at least once)."""
        url = str(notify.url) if notify.url else self.environ.get(notify.url_env or "")
        if not url:
            return Answer(error=f"{notify.url_env} is not set in the trigger service")
        headers = {
            "content-type": content_type(notify),
            "user-agent": "boxops-notify",
            DELIVERY: delivery,
        }
        if notify.secret_env:
            secret = self.environ.get(notify.secret_env)
            if not secret:
                return Answer(error=f"{notify.secret_env} is not set in the trigger service")
            headers[SIGNATURE] = signature(secret, body)
        try:
            response = await self.http.post(
                url, content=body, headers=headers, timeout=notify.timeout
            )
        except (httpx.HTTPError, httpx.InvalidURL) as error:  # an env URL is not checked
            return Answer(error=f"{type(error).__name__}: {error}".rstrip(": "))
        return Answer(status_code=response.status_code)

    async def dead_letter_failed(self) -> None:
        """Publish each delivery that failed for good to the dead letters, then mark it:
        a crash in between publishes it again, and JetStream drops the copy by its id."""
        async with self.triggers.sessions() as session:
            failed = await store.undead_lettered(session)
        for row in failed:
            await self.triggers.bus.dead_letter(
                f"{NOTIFY_SUBJECT}.{row.trigger}",
                row.body.encode(),
                _headers(row),
                await self._reason(row),
                origin=f"notify:{row.id}",
            )
            async with self.triggers.writing() as tx:
                done = await tx.session.get(DeliveryRow, row.id)
                if done is not None:
                    done.dead_lettered = True
                    tx.session.add(done)

    async def _reason(self, row: DeliveryRow) -> str:
        async with self.triggers.sessions() as session:
            tried = (await store.attempts(session, [row.id])).get(row.id, [])
        last = Answer(tried[-1].status_code, tried[-1].error).reason if tried else "no attempt"
        notify = Notify.model_validate(row.notify)
        where = notify.url or notify.url_env
        return f"trigger {row.trigger}: notifying {where} failed {len(tried)} time(s), last: {last}"


def _headers(row: DeliveryRow) -> dict[str, str]:
    """What the dead letter carries besides its body: no URL or secret, only its kind."""
    notify = Notify.model_validate(row.notify)
    return {"content-type": content_type(notify), "boxops-trigger": row.trigger}


def _lease(row: DeliveryRow) -> timedelta:
    return timedelta(seconds=float(row.notify.get("timeout", 10.0))) + LEASE_MARGIN
