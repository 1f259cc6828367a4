"""What a token may do, and a gateway that refuses to be open beyond loopback."""

import pytest
from pydantic import ValidationError

from services.gateway.scopes import Principal, Requirement, Scope, refusal
from services.gateway.settings import GatewaySettings

READER = Principal("ci", frozenset({Scope.READ}))
ADMIN = Principal("root", frozenset({Scope.ADMIN}))
RUN_R1 = Principal("run token", run_id="r1")


def test_a_token_may_call_the_routes_of_its_scopes_and_admin_all() -> None:
    assert refusal(READER, Requirement(Scope.READ), None) is None
    for scope in Scope:
        assert refusal(ADMIN, Requirement(scope), None) is None


def test_a_missing_scope_is_named_with_what_the_token_has() -> None:
    assert refusal(READER, Requirement(Scope.RUN), None) == (
        "this route needs scope run; token 'ci' has read"
    )


def test_a_runs_token_opens_its_own_runs_marked_routes_only() -> None:
    own = Requirement(Scope.WRITE, own_run=True)
    assert refusal(RUN_R1, own, "r1") is None
    assert refusal(RUN_R1, own, "r2") is not None
    assert refusal(RUN_R1, Requirement(Scope.READ), "r1") is not None
    assert refusal(RUN_R1, Requirement(Scope.READ), None) is not None


@pytest.mark.parametrize(
    "host",
    [
        "0.0.0.0",  # noqa: S104
        "::",
        "10.1.2.3",
        "gateway.example",
    ],
)
def test_a_gateway_beyond_loopback_needs_a_token(host: str) -> None:
    with pytest.raises(ValidationError, match="BOXOPS_API_TOKEN is empty"):
        GatewaySettings(host=host, api_token="")
    assert GatewaySettings(host=host, api_token="t" * 32).host == host


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_a_gateway_on_loopback_may_run_open(host: str) -> None:
    assert GatewaySettings(host=host, api_token="").api_token == ""
