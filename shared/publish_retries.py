"""Publishing through a cluster's leader change: JetStream answers no one while a stream
elects a new leader (a node lost), so a publish is sent again, with the same
`Nats-Msg-Id`, until it is stored; JetStream drops the copies that were stored already."""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from nats.errors import ConnectionReconnectingError, NoRespondersError
from nats.js.errors import NoStreamResponseError, ServiceUnavailableError

log = logging.getLogger(__name__)

T = TypeVar("T")

# A stream's new leader is elected within seconds of its old one's loss; a machine under
# load takes longer. Past this the caller learns of the failure (a handler is redelivered,
# an outbox row relayed later, an HTTP caller gets an error).
PATIENCE_S = 30.0
# No responders, no answer, an empty answer (nats-py 2.16 reads it as JSON), a stream with
# no leader yet, the connection moving to another node: all pass when a leader is elected.
TRANSIENT = (
    NoRespondersError,
    NoStreamResponseError,
    ServiceUnavailableError,
    ConnectionReconnectingError,
    TimeoutError,
    json.JSONDecodeError,
)


async def until_stored(
    publish: Callable[[], Awaitable[T]], what: str, patience_s: float = PATIENCE_S
) -> T:
    """`publish()` again, after a growing pause, while it fails for a reason a leader
    election explains, for up to `patience_s`; then its error is raised. Only for a publish
    with a `Nats-Msg-Id`: a copy stored by a try whose answer was lost is dropped."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience_s
    pause = 0.05
    while True:
        try:
            return await publish()
        except TRANSIENT as err:
            if loop.time() + pause > deadline:
                raise
            log.info(
                "publish of %s not stored (%s); again in %.2f s", what, type(err).__name__, pause
            )
        await asyncio.sleep(pause)
        pause = min(pause * 2, 1.0)
