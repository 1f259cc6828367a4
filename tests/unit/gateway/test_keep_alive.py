"""An idle HTTP connection must be closed by the client before the server closes it: when
both waited the same 5 s, a request sent just as the server closed was reset (seen in CI as
`Connection reset by peer` on a POST after a 5 s pause)."""

import httpx

from services.gateway.listen import KEEP_ALIVE_S


def test_the_gateway_keeps_an_idle_connection_longer_than_a_client_does() -> None:
    client_expiry = httpx.Client()._transport._pool._keepalive_expiry  # type: ignore[attr-defined]
    assert client_expiry is not None
    assert 2 * client_expiry < KEEP_ALIVE_S
