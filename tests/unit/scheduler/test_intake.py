"""A component version recorded before its spec was checked as it is now. Pure, no I/O."""

from datetime import UTC, datetime

import pytest

from services.scheduler.domain import Run
from services.scheduler.intake import component_run
from services.scheduler.plan import PlanError
from shared.registry_api import PinnedComponent

AT = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_stored_component_whose_default_is_now_refused_refuses_the_run_saying_why() -> None:
    stored = PinnedComponent(
        name="train",
        version=1,
        digest="d",
        spec={
            "name": "train",
            "command": ["t"],
            "params": {"epochs": {"type": "int", "default": "three"}},
        },
    )
    with pytest.raises(PlanError) as raised:
        component_run(Run(id="r1", command=(), created_at=AT), stored, {}, {})
    assert str(raised.value) == (
        "train@1 has a spec this version refuses (params.epochs.default: must be int, "
        "got 'three'); register a corrected version"
    )
