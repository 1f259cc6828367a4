"""Params typed and defaulted, inputs checked, commands templated, cache keys. Pure."""

import pytest

from services.scheduler.plan import (
    PlanError,
    cache_key,
    check_inputs,
    render,
    typed_params,
)
from shared.events import InputRef
from shared.specs import ComponentSpec, Param

PARAMS = {
    "lr": Param(type="float", default=0.1),
    "epochs": Param(type="int", required=True),
    "fast": Param(type="bool", default=False),
    "layers": Param(type="list", default=[8]),
    "name": Param(type="str"),
}


def test_params_are_converted_from_strings_and_defaulted() -> None:
    assert typed_params(PARAMS, {"epochs": "3", "fast": "true", "layers": "[1, 2]"}, "c@1") == {
        "lr": 0.1,
        "epochs": 3,
        "fast": True,
        "layers": [1, 2],
    }


@pytest.mark.parametrize(
    ("given", "error"),
    [
        ({"epochs": 1, "colour": "red"}, "unknown param 'colour' for c@1 (it takes: epochs, "),
        ({}, "missing required param 'epochs' (int) for c@1"),
        ({"epochs": "ten"}, "param 'epochs' must be int, got 'ten'"),
        ({"epochs": 2.5}, "param 'epochs' must be int, got 2.5"),
        ({"epochs": 1, "lr": "fast"}, "param 'lr' must be float, got 'fast'"),
        ({"epochs": 1, "fast": "maybe"}, "param 'fast' must be bool, got 'maybe'"),
        ({"epochs": 1, "layers": "{}"}, "param 'layers' must be list, got '{}'"),
    ],
)
def test_bad_params_are_refused_naming_the_problem(given: dict, error: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(PlanError) as raised:
        typed_params(PARAMS, given, "c@1")
    assert str(raised.value).startswith(error)


SPEC = ComponentSpec.model_validate(
    {
        "name": "train",
        "command": ["python", "t.py", "--lr", "{{ params.lr }}", "--data", "{{ inputs.train }}"],
        "inputs": {"train": {"type": "dataset"}, "base": {"type": "model", "required": False}},
    }
)


def test_inputs_must_be_known_present_when_required_and_of_the_declared_kind() -> None:
    data = InputRef(type="dataset", name="iris", version=1)
    check_inputs(SPEC, {"train": data}, "train@1")
    with pytest.raises(PlanError, match="missing required input 'train' \\(dataset\\)"):
        check_inputs(SPEC, {}, "train@1")
    with pytest.raises(PlanError, match="unknown input 'extra'"):
        check_inputs(SPEC, {"train": data, "extra": data}, "train@1")
    with pytest.raises(PlanError, match="input 'base' of train@1 is a model, got a dataset"):
        check_inputs(SPEC, {"train": data, "base": data}, "train@1")


def test_commands_get_params_and_leave_input_paths_to_the_executor() -> None:
    assert render(SPEC.command, {"lr": 0.5}, "r1") == [
        "python",
        "t.py",
        "--lr",
        "0.5",
        "--data",
        "{{ inputs.train }}",
    ]
    with pytest.raises(PlanError, match="unknown param 'lr'"):
        render(SPEC.command, {}, "r1")


def test_the_cache_key_changes_with_params_and_input_contents_only() -> None:
    data = InputRef(type="dataset", name="iris", version=1, digest="sha256:aa")
    key = cache_key("train@1", "d1", {"lr": 0.5}, {"train": data})
    assert key == cache_key("train@1", "d1", {"lr": 0.5}, {"train": data})
    assert key != cache_key("train@1", "d1", {"lr": 0.6}, {"train": data})
    other = data.model_copy(update={"digest": "sha256:bb"})
    assert key != cache_key("train@1", "d1", {"lr": 0.5}, {"train": other})
    assert key != cache_key("train@2", "d2", {"lr": 0.5}, {"train": data})
