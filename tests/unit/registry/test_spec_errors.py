"""Malformed specs, each with the exact error the registry (and the CLI) reports.

Schema problems come from shared.specs.load with the kind the registration expects;
wiring problems from the pipeline check against registered components, located in the
YAML the same way."""

import pytest

from services.registry.domain.pipelines import check, find_cycle
from shared.specs import ComponentSpec, PipelineSpec, SpecError, load, problem

COMPONENT = {"component": ComponentSpec}
PIPELINE = {"pipeline": PipelineSpec}

SCHEMA_CASES = [
    (
        "kind: component\nname: [x\n",
        COMPONENT,
        "not valid YAML, line 2, column 7: expected ',' or ']'",
    ),
    (
        "kind: component\nname: \t[x\n",
        COMPONENT,
        "not valid YAML, line 2, column 7: found character '\\t' that cannot start any token",
    ),
    ("- a\n- b\n", COMPONENT, "a spec is a YAML mapping with a `kind` field"),
    ("kind: job\nname: x\n", COMPONENT, "kind (line 1): must be one of component, got 'job'"),
    (
        "kind: pipeline\nname: p\nsteps: {}\n",
        COMPONENT,
        "kind (line 1): must be one of component, got 'pipeline'",
    ),
    ("kind: component\ncommand: [x]\n", COMPONENT, "name (line 1): Field required"),
    (
        "kind: component\nname: tr/ain\ncommand: [x]\n",
        COMPONENT,
        "name (line 2): component name 'tr/ain' may only contain letters, digits, '.', '_' "
        "and '-', start with a letter or digit, and be at most 200 characters long",
    ),
    (
        "kind: component\nname: t\ncommand: []\n",
        COMPONENT,
        "command (line 3): List should have at least 1 item after validation, not 0",
    ),
    (
        "kind: component\nname: t\ncommand: [x]\ncolour: red\n",
        COMPONENT,
        "colour (line 4): Extra inputs are not permitted",
    ),
    (
        "kind: component\nname: t\ntype: trainer\ncommand: [x]\n",
        COMPONENT,
        "type (line 3): Input should be 'data-processing', 'training', 'evaluation', "
        "'batch-inference', 'test', 'hpo' or 'custom'",
    ),
    (
        "kind: component\nname: t\ncommand: [x]\ninputs:\n  data:\n    type: table\n",
        COMPONENT,
        "inputs.data.type (line 6): Input should be 'dataset', 'model' or 'file'",
    ),
    (
        "kind: component\nname: t\ncommand: [x]\nparams:\n  bad-name: {type: int}\n",
        COMPONENT,
        "params (line 5): 'bad-name' is not a valid name (letters, digits, _)",
    ),
    (
        "kind: component\nname: t\ncommand: [x]\nparams:\n  lr: {type: decimal}\n",
        COMPONENT,
        "params.lr.type (line 5): Input should be 'str', 'int', 'float', 'bool', 'list' or 'dict'",
    ),
    (
        "kind: component\nname: t\ncommand: [x]\nresources:\n  cpu: -1\n",
        COMPONENT,
        "resources.cpu (line 5): Input should be greater than or equal to 0",
    ),
    (
        "kind: component\nname: t\ncommand: [x]\nretries: 99\n",
        COMPONENT,
        "retries (line 4): Input should be less than or equal to 20",
    ),
    (
        "kind: component\nname: t\ncommand: [x]\ntimeout: soon\n",
        COMPONENT,
        "timeout (line 4): Input should be a valid number, unable to parse string as a number",
    ),
    (
        "kind: component\nname: t\ncommand: [x]\nparams:\n  epochs:\n    type: int\n"
        "    default: three\n",
        COMPONENT,
        "params.epochs.default (line 7): must be int, got 'three'",
    ),
    (
        "kind: component\nname: t\ncommand: [x]\nparams:\n  fast: {type: bool, default: maybe}\n",
        COMPONENT,
        "params.fast.default (line 5): must be bool, got 'maybe'",
    ),
    (
        "kind: component\nname: t\ncommand: [x]\nparams:\n  lr: {type: float, default: x}\n",
        COMPONENT,
        "params.lr.default (line 5): must be float, got 'x'",
    ),
    (
        "kind: component\nname: t\ncommand: [x]\nparams:\n  tag:\n    default: [a, b]\n",
        COMPONENT,
        "params.tag.default (line 6): must be str, got ['a', 'b']",
    ),
    ("kind: pipeline\nname: p\n", PIPELINE, "steps (line 1): Field required"),
    (
        "kind: pipeline\nname: p\nsteps:\n  train:\n    inputs: {}\n",
        PIPELINE,
        "steps.train.component (line 5): Field required",
    ),
    (
        "kind: pipeline\nname: p\nsteps:\n  my step:\n    component: t\n",
        PIPELINE,
        "steps (line 4): step name 'my step' may only hold letters, digits, _ and -",
    ),
    (
        "kind: pipeline\nname: p\nparams:\n  frac: {type: float, default: half}\n"
        "steps:\n  a: {component: t}\n",
        PIPELINE,
        "params.frac.default (line 4): must be float, got 'half'",
    ),
]


@pytest.mark.parametrize(("text", "kinds", "error"), SCHEMA_CASES)
def test_a_malformed_spec_gets_its_exact_error(
    text: str, kinds: dict[str, type], error: str
) -> None:
    with pytest.raises(SpecError) as raised:
        load(text, kinds)
    assert raised.value.problems == [error]


def test_a_default_of_its_type_is_accepted() -> None:
    text = (
        "kind: component\nname: t\ncommand: [x]\nparams:\n  epochs: {type: int, default: 3}\n"
        "  lr: {type: float, default: 1}\n  fast: {type: bool, default: false}\n"
        "  layers: {type: list, default: [8]}\n  name: {default: bert}\n"
        "  seed: {type: int, default: null}\n"
    )
    spec = load(text, COMPONENT)
    assert isinstance(spec, ComponentSpec)
    assert {name: p.default for name, p in spec.params.items()} == {
        "epochs": 3,
        "lr": 1,
        "fast": False,
        "layers": [8],
        "name": "bert",
        "seed": None,
    }


PREP = ComponentSpec.model_validate(
    {
        "name": "prep",
        "command": ["prep"],
        "inputs": {"raw": {"type": "dataset"}},
        "outputs": {"clean": {"type": "dataset"}, "report": {"type": "metrics"}},
        "params": {"frac": {"type": "float", "required": True}},
    }
)
TRAIN = ComponentSpec.model_validate(
    {
        "name": "train",
        "command": ["train"],
        "inputs": {"data": {"type": "dataset"}, "base": {"type": "model", "required": False}},
        "outputs": {"model": {"type": "model"}},
        "params": {"lr": {"type": "float", "default": 0.1}},
    }
)
REGISTERED = {"prep": PREP, "train": TRAIN}

GOOD = """kind: pipeline
name: flow
inputs:
  raw: {type: dataset}
params:
  frac: {type: float, default: 0.5}
steps:
  prep:
    component: prep
    inputs:
      raw: "{{ inputs.raw }}"
    params:
      frac: "{{ params.frac }}"
  train:
    component: train
    inputs:
      data: "{{ steps.prep.outputs.clean }}"
outputs:
  model: "{{ steps.train.outputs.model }}"
"""


def problems(text: str) -> list[str]:
    spec = load(text, PIPELINE)
    assert isinstance(spec, PipelineSpec)
    components = {name: REGISTERED.get(step.component) for name, step in spec.steps.items()}
    return [problem(text, p.loc, p.message) for p in check(spec, components)]


def test_a_well_wired_pipeline_has_no_problems() -> None:
    assert problems(GOOD) == []


WIRING_CASES = [
    (
        GOOD.replace('      data: "{{ steps.prep.outputs.clean }}"', "      data: x@1").replace(
            '      raw: "{{ inputs.raw }}"', '      raw: "{{ steps.train.outputs.model }}"'
        ),
        [
            "steps.prep.inputs.raw (line 11): steps.train.outputs.model is a model, "
            "but the input takes a dataset",
        ],
    ),
    (
        GOOD.replace(
            '      raw: "{{ inputs.raw }}"', '      raw: "{{ steps.train.outputs.model }}"'
        ),
        [
            "steps.prep.inputs.raw (line 11): steps.train.outputs.model is a model, "
            "but the input takes a dataset",
            "steps.prep (line 9): cycle: prep → train → prep",
        ],
    ),
    (
        GOOD.replace("steps.prep.outputs.clean", "steps.clean.outputs.clean"),
        ["steps.train.inputs.data (line 17): unknown step 'clean'"],
    ),
    (
        GOOD.replace("    component: train", "    component: fit"),
        ["steps.train.component (line 15): unknown component 'fit'"],
    ),
    (
        GOOD.replace("steps.prep.outputs.clean", "steps.prep.outputs.report"),
        [
            "steps.train.inputs.data (line 17): steps.prep.outputs.report is a metrics, "
            "but the input takes a dataset"
        ],
    ),
    (
        GOOD.replace('      data: "{{ steps.prep.outputs.clean }}"\n', "      base: m@1\n"),
        ["steps.train.inputs (line 17): missing required input 'data' (dataset) of train"],
    ),
    (
        GOOD.replace('    params:\n      frac: "{{ params.frac }}"\n', ""),
        ["steps.prep.params (line 9): missing required param 'frac' (float) of prep"],
    ),
    (
        GOOD.replace("{{ inputs.raw }}", "{{ inputs.rows }}"),
        ["steps.prep.inputs.raw (line 11): unknown pipeline input 'rows'"],
    ),
    (
        GOOD.replace("{{ inputs.raw }}", "data/{{ inputs.raw }}"),
        [
            "steps.prep.inputs.raw (line 11): 'data/{{ inputs.raw }}': an input is wired to "
            "exactly one {{ steps.<step>.outputs.<output> }} or {{ inputs.<input> }}"
        ],
    ),
    (
        GOOD.replace("steps.prep.outputs.clean", "steps.prep.outputs.cleaned"),
        [
            "steps.train.inputs.data (line 17): step prep (prep) has no output 'cleaned' "
            "(it gives: clean, report)"
        ],
    ),
    (
        GOOD.replace('      raw: "{{ inputs.raw }}"', '      rows: "{{ inputs.raw }}"'),
        [
            "steps.prep.inputs.rows (line 11): prep has no input 'rows' (it takes: raw)",
            "steps.prep.inputs (line 11): missing required input 'raw' (dataset) of prep",
        ],
    ),
    (
        GOOD.replace("{{ params.frac }}", "{{ params.fraction }}"),
        ["steps.prep.params.frac (line 13): unknown pipeline param 'fraction'"],
    ),
    (
        GOOD.replace(
            "  train:\n    component: train\n",
            "  train:\n    component: train\n    after: [deploy]\n",
        ),
        ["steps.train.after.0 (line 16): unknown step 'deploy'"],
    ),
]


@pytest.mark.parametrize(("text", "expected"), WIRING_CASES)
def test_a_miswired_pipeline_gets_each_problem_with_field_and_line(
    text: str, expected: list[str]
) -> None:
    assert problems(text) == expected


def test_a_cycle_is_found_among_known_steps_only() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"ghost"}}) is None
    assert find_cycle({"a": {"a"}}) == ["a", "a"]
