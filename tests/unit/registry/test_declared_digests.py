"""A digest declared for external data is checked against the data boxops hashed."""

from services.registry.domain.versions import digest_problem

FOUND = "sha256:" + "ab" * 32


def test_a_matching_digest_with_or_without_its_prefix_is_accepted() -> None:
    assert digest_problem(FOUND, FOUND) is None
    assert digest_problem("AB" * 32, FOUND) is None
    assert digest_problem(None, FOUND) is None


def test_a_made_up_digest_is_a_mismatch_naming_both() -> None:
    made_up = "sha256:" + "00" * 32
    assert digest_problem(made_up, FOUND) == (
        f"digest mismatch: declared {made_up}, the data has {FOUND}"
    )


def test_a_digest_of_another_kind_cannot_be_checked() -> None:
    assert digest_problem("md5:0cc175b9c0f1b6a831c399e269772661", FOUND) == (
        "digest 'md5:0cc175b9c0f1b6a831c399e269772661' cannot be checked: "
        "boxops checks sha256:<64 hex digits>"
    )
