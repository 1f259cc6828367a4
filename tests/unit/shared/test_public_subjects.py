"""Which subjects outside systems may publish: the one rule the gateway and the bus share."""

import pytest

from shared.events import is_public


@pytest.mark.parametrize(
    "subject",
    [
        "dataset.version.created",
        "metric.logged",
        "metrics.logged",
        "alert.firing",
        "alert.resolved",
        "ext.sales.refresh",
    ],
)
def test_public_subjects(subject: str) -> None:
    assert is_public(subject)


@pytest.mark.parametrize(
    "subject",
    [
        "run.dispatched.vm",
        "executor.run.ended",
        "run.completed",
        "run.abort.requested",
        "model.version.created",
        "metric.below_threshold",
        "dlq.run.requested",
        "ext.",
        "extra.thing",
    ],
)
def test_platform_subjects_are_not_public(subject: str) -> None:
    assert not is_public(subject)
