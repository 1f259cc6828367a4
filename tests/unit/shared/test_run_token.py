"""A run's token names its run and expiry, signed: only the secret makes one, and it ends."""

import pytest

from shared.run_token import GRACE_S, expiry, run_of, run_token

NOW = 1_765_000_000


def test_a_token_names_the_run_it_was_made_for_until_it_expires() -> None:
    token = run_token("s", "r1", NOW + 10)
    assert run_of("s", token, NOW) == "r1"
    assert run_of("s", token, NOW + 10) is None
    assert run_of("other", token, NOW) is None
    assert run_of("", run_token("", "r1", NOW + 10), NOW) is None


def test_a_run_id_with_dots_is_read_whole() -> None:
    assert run_of("s", run_token("s", "a.b", NOW + 10), NOW) == "a.b"


@pytest.mark.parametrize(
    "token",
    ["run.00", "run.", "run..", "run.r1..x", "run.r1.1x.x", "run.r1.\xb9.x", "r1", "run.r1.-1.x"],
)
def test_what_is_no_token_of_the_secret_names_no_run(token: str) -> None:
    assert run_of("s", token, NOW) is None


def test_a_forged_expiry_or_run_breaks_the_signature() -> None:
    token = run_token("s", "r1", NOW + 10)
    assert run_of("s", token.replace(f".{NOW + 10}.", f".{NOW + 99}."), NOW) is None
    assert run_of("s", token.replace("run.r1.", "run.r2."), NOW) is None


def test_a_token_lives_past_the_runs_timeout_by_the_grace_and_never_past_the_maximum() -> None:
    assert expiry(NOW, None, 500) == NOW + 500
    assert expiry(NOW, 60, 10 * GRACE_S) == NOW + 60 + GRACE_S
    assert expiry(NOW, 60, 100) == NOW + 100
