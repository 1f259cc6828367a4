"""Retention settings: horizons from BOXOPS_* variables, and the inbox's lower bound."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from shared.retention import Horizons
from shared.settings import DUPLICATE_WINDOW_S, MIN_INBOX_RETENTION_S, BoxopsSettings


def test_an_inbox_horizon_shorter_than_redeliveries_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert MIN_INBOX_RETENTION_S > DUPLICATE_WINDOW_S
    monkeypatch.setenv("BOXOPS_INBOX_RETENTION_S", str(MIN_INBOX_RETENTION_S - 1))
    with pytest.raises(ValidationError, match="BOXOPS_INBOX_RETENTION_S must be at least"):
        BoxopsSettings()


def test_an_inbox_horizon_of_the_minimum_is_accepted() -> None:
    settings = BoxopsSettings(inbox_retention_s=MIN_INBOX_RETENTION_S)
    assert Horizons.of(settings).inbox == timedelta(seconds=MIN_INBOX_RETENTION_S)


def test_an_outbox_horizon_must_be_positive() -> None:
    with pytest.raises(ValidationError):
        BoxopsSettings(outbox_retention_s=0)


def test_horizons_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOXOPS_OUTBOX_RETENTION_S", "90")
    monkeypatch.setenv("BOXOPS_INBOX_RETENTION_S", "7200")
    horizons = Horizons.of(BoxopsSettings())
    assert horizons == Horizons(outbox=timedelta(seconds=90), inbox=timedelta(hours=2))
