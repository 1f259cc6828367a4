"""A generic hook's signature (GitHub-style) and the freshness of its timestamp."""

import pytest

from services.gateway.signatures import signature, signed, staleness

# GitHub's documentation of webhook signatures gives this secret, body and signature.
SECRET = "It's a Secret to Everybody"
BODY = b"Hello, World!"
GITHUB = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_the_signature_is_githubs_for_its_documented_example() -> None:
    assert signature(SECRET, BODY) == GITHUB
    assert signed(SECRET, BODY, GITHUB)
    assert signed(SECRET, BODY, f" {GITHUB} ")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        GITHUB[len("sha256=") :],  # the hex without its prefix
        GITHUB.replace("sha256=", "sha1="),
        GITHUB[:-1] + "0",
        GITHUB.upper(),
        "sha256=caf\xe9",
    ],
)
def test_anything_but_the_bodys_signature_is_refused(header: str | None) -> None:
    assert not signed(SECRET, BODY, header)


def test_another_body_or_secret_is_another_signature() -> None:
    assert not signed(SECRET, BODY + b" ", GITHUB)
    assert not signed(SECRET + "!", BODY, GITHUB)


@pytest.mark.parametrize("sent", ["1000", "1299", "701", "1000.5"])
def test_a_delivery_sent_within_the_window_is_fresh(sent: str) -> None:
    assert staleness(sent, 1000.0, 300) is None


@pytest.mark.parametrize(
    ("sent", "problem"),
    [
        (None, "missing header X-Hook-Timestamp"),
        ("", "missing header X-Hook-Timestamp"),
        ("yesterday", "'yesterday' is no Unix time"),
        ("nan", "outside 300 s"),
        ("1301", "301 s from now: outside 300 s"),
        ("699", "301 s from now"),
    ],
)
def test_a_delivery_without_or_outside_the_window_is_refused(
    sent: str | None, problem: str
) -> None:
    assert problem in (staleness(sent, 1000.0, 300) or "")
