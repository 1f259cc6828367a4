import pytest

from shared import storable


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("a\x00b", "a NUL character cannot be stored"),
        ({"gpu": "\x00"}, "a NUL character cannot be stored (at gpu)"),
        ({"a\x00": "1"}, "a NUL character cannot be stored"),
        (
            ["ok", "\ud800"],
            "text that is not valid Unicode (a lone surrogate) cannot be stored (at 1)",
        ),
        ({"a": [1, float("inf")]}, "inf cannot be stored: give a finite number (at a.1)"),
        (float("nan"), "nan cannot be stored: give a finite number"),
    ],
)
def test_a_value_no_database_can_store_is_named_with_where_it_is(
    value: object, problem: str
) -> None:
    assert storable.problem(value) == problem


@pytest.mark.parametrize("value", ["plain", 2**70, 1.5, None, True, {"a": ["b", {"c": 1}]}, []])
def test_text_numbers_and_their_lists_and_dicts_can_be_stored(value: object) -> None:
    assert storable.problem(value) is None
