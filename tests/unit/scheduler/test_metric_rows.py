from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from services.scheduler.metrics import _rows
from services.scheduler.store import _sqlite_times
from shared.envelope import Envelope
from shared.events import MetricLogged, MetricsBatch

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def batch(body: str) -> Envelope[MetricLogged | MetricsBatch]:
    return Envelope(id="ev", source="gw", time=AT, data=MetricsBatch.model_validate_json(body))


def test_batch_points_become_rows_keyed_by_run_and_point_id_or_place() -> None:
    body = """{"run_id": "r1", "points": [
        {"id": "p7", "name": "loss", "value": 0.5, "step": 3, "at": "2026-01-02T05:04:05+02:00"},
        {"name": "acc", "value": 1}]}"""
    first, second = _rows(batch(body))
    assert first == ("r1-p7", "r1", "loss", 3, 0.5, AT)
    assert second == ("ev-1", "r1", "acc", None, 1.0, AT)  # no id, no time: the event's


def test_points_from_outside_a_run_are_no_rows_and_a_nameless_point_is_refused() -> None:
    assert _rows(batch('{"points": [{"name": "loss", "value": 1}]}')) == []
    with pytest.raises(ValidationError):
        batch('{"run_id": "r1", "points": [{"name": "", "value": 1}]}')


@pytest.mark.parametrize(
    "at",
    [
        AT,
        AT.replace(microsecond=7),
        datetime.fromisoformat("2026-01-02T05:04:05.000007+02:00"),
        AT.replace(tzinfo=None),
        MetricsBatch.model_validate_json(
            '{"points": [{"name": "x", "value": 1, "at": "2026-01-02T03:04:05.000007Z"}]}'
        ).points[0]["at"],
    ],
)
def test_sqlite_gets_the_naive_utc_time_as_text(at: datetime) -> None:
    [text] = _sqlite_times([at])
    assert text == f"2026-01-02 03:04:05.{at.microsecond:06d}"
