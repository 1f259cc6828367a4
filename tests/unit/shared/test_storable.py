"""Values every database stores: bounds and refusals that name what is wrong."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter, ValidationError

from shared import storable
from shared.durations import seconds
from shared.events import FileEntry
from shared.storable import INT64_MAX, Instant, Offset, Text

DIGEST = "0" * 64


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


def test_an_offset_is_a_non_negative_int64() -> None:
    offsets = TypeAdapter(Offset)
    assert offsets.validate_python(INT64_MAX) == INT64_MAX
    for bad in (-1, INT64_MAX + 1, 2**64 - 1):
        with pytest.raises(ValidationError):
            offsets.validate_python(bad)


def test_text_with_a_nul_character_is_refused_by_name() -> None:
    assert TypeAdapter(Text).validate_python("a%_b") == "a%_b"
    with pytest.raises(ValidationError, match="a NUL character cannot be stored"):
        TypeAdapter(Text).validate_python("a\x00b")


def test_an_instant_is_in_utc_and_one_that_leaves_the_calendar_there_is_refused() -> None:
    instants = TypeAdapter(Instant)
    east = datetime(2026, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    assert instants.validate_python(east) == datetime(2026, 1, 1, tzinfo=UTC)
    assert instants.validate_python("0001-01-01T00:00:00Z").year == 1
    for bad in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00"):
        with pytest.raises(ValidationError, match="is out of range once in UTC"):
            instants.validate_python(bad)


def test_a_file_size_beyond_int64_is_refused() -> None:
    assert FileEntry(path="a", size=INT64_MAX, sha256=DIGEST).size == INT64_MAX
    with pytest.raises(ValidationError, match="less than or equal to 9223372036854775807"):
        FileEntry(path="a", size=INT64_MAX + 1, sha256=DIGEST)


@pytest.mark.parametrize("duration", [10**400, 1.7976931348623157e308, float("nan"), "9" * 400])
def test_a_duration_beyond_a_century_is_refused(duration: object) -> None:
    with pytest.raises(ValueError, match="at most a century"):
        seconds(duration)
    assert seconds("36500d") == 36500 * 86400
