"""The one name rule: what passes, and the sentence a bad name gets."""

import pytest

from boxops.urls import api_path
from shared.names import RULE, BadName, check_name


@pytest.mark.parametrize("name", ["iris", "Sales_2026.v2", "a-b.c_d", "7", "x" * 200])
def test_a_good_name_is_itself(name: str) -> None:
    assert check_name(name, "dataset name") == name


@pytest.mark.parametrize(
    "name", ["", "a/b", "a/../b", "..", ".hidden", "-x", "_x", "a b", "iris\n", "x" * 201, "é"]
)
def test_a_bad_name_is_refused_quoting_it_and_stating_the_rule(name: str) -> None:
    with pytest.raises(BadName) as refused:
        check_name(name, "model name")
    assert str(refused.value) == f"model name {name!r} {RULE}"


@pytest.mark.parametrize(
    ("segments", "path"),
    [
        (("datasets", "iris", "versions", 2), "/v1/datasets/iris/versions/2"),
        (("datasets", "a/../b", "versions"), "/v1/datasets/a%2F..%2Fb/versions"),
        (("datasets", ".."), "/v1/datasets/%2E%2E"),
        (("datasets", "."), "/v1/datasets/%2E"),
        (("models", "a?b#c d"), "/v1/models/a%3Fb%23c%20d"),
    ],
)
def test_each_path_segment_stays_one_segment(segments: tuple[object, ...], path: str) -> None:
    assert api_path(*segments) == path
