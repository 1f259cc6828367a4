"""A spec the registry recorded before it was checked as it is now. Pure, no I/O."""

import pytest

from services.scheduler.intake import stored
from services.scheduler.plan import PlanError
from shared.specs import ComponentSpec

RECORDED = {"name": "train", "command": ["t"], "params": {"epochs": {"type": "int"}}}


def test_a_recorded_spec_that_still_validates_is_the_spec() -> None:
    assert stored(ComponentSpec, RECORDED, "train@1").params["epochs"].type == "int"


def test_a_recorded_default_now_refused_is_the_reason_to_refuse_the_run() -> None:
    recorded = {**RECORDED, "params": {"epochs": {"type": "int", "default": "three"}}}
    with pytest.raises(PlanError) as raised:
        stored(ComponentSpec, recorded, "train@1")
    assert str(raised.value) == (
        "train@1 has a spec this version refuses (params.epochs.default: must be int, "
        "got 'three'); register a corrected version"
    )
