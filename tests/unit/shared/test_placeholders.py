"""Spec placeholders: `{{ spec.dir }}` and `{{ python }}` filled in a spec file's text with
every line kept, and each placeholder nothing would fill refused with its field and line."""

import pytest
import yaml

from shared.placeholders import fill
from shared.specs import ComponentSpec, PipelineSpec, SpecError, load

KINDS = {"component": ComponentSpec, "pipeline": PipelineSpec}
VALUES = {"spec.dir": '/src/my "iris" example', "python": "/venv/bin/python3"}


def test_the_folder_and_the_python_are_filled_in_where_they_stand() -> None:
    text = (
        "kind: component\n"
        "name: train\n"
        'command: ["{{ python }}", "{{spec.dir}}/train.py", "{{ params.lr }}"]\n'
        "params: {lr: {type: float, default: 0.1}}\n"
        "env:\n"
        "  PYTHONPATH: '{{ spec.dir }}:{{ spec.dir }}/lib'\n"
        "  NOTE: |\n"
        "    {{ python }}\n"
        "    twice\n"
        "labels: {team: vision}\n"
    )
    filled = fill(text, VALUES)

    spec = yaml.safe_load(filled)
    assert spec["command"] == [
        "/venv/bin/python3",
        '/src/my "iris" example/train.py',
        "{{ params.lr }}",
    ]
    assert spec["env"] == {
        "PYTHONPATH": '/src/my "iris" example:/src/my "iris" example/lib',
        "NOTE": "/venv/bin/python3\ntwice\n",
    }
    assert filled.splitlines()[9] == "labels: {team: vision}"  # every line where it was
    assert isinstance(load(filled, KINDS), ComponentSpec)


def test_an_anchor_or_a_tag_before_one_is_kept() -> None:
    text = "kind: component\nname: t\ncommand: [&py '{{ python }}', !!str '{{ spec.dir }}', *py]\n"
    assert yaml.safe_load(fill(text, VALUES))["command"] == [
        "/venv/bin/python3",
        '/src/my "iris" example',
        "/venv/bin/python3",
    ]


def test_a_text_without_them_is_left_as_it_is() -> None:
    text = "kind: component  # a comment\nname: t\ncommand: [x, '{{ run.id }}']\n"
    assert fill(text, VALUES) == text


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "kind: component\nname: t\ncommand: [x, '{{ params.nope }}']\n"
            "params: {lr: {type: float}}\n",
            "command.1 (line 3): {{ params.nope }}: no param 'nope' is declared (it has: lr)",
        ),
        (
            "kind: component\nname: t\ncommand:\n  - x\n  - '{{ outputs.model }}'\n",
            "command.1 (line 5): {{ outputs.model }}: no output 'model' is declared (it has: none)",
        ),
        (
            "kind: component\nname: t\ncommand: ['{{ spec.dir }}/x']\n",
            "command.0 (line 3): {{ spec.dir }} is filled in when the CLI registers a spec file "
            "(boxops components register FILE); a spec sent over HTTP must have it filled in",
        ),
        (
            "kind: component\nname: t\ncommand: ['{{ pyhton }}']\n",
            "command.0 (line 3): {{ pyhton }} is not a placeholder: a command takes "
            "{{ params.<name> }}, {{ inputs.<name> }}, {{ outputs.<name> }}, {{ run.id }}, "
            "and in a spec file {{ spec.dir }} and {{ python }}",
        ),
        (
            "kind: component\nname: t\ncommand: [x]\nparams: {lr: {type: float}}\n"
            "image: 'repo/x:{{ params.lr }}'\n",
            "image (line 5): {{ params.lr }} is not filled in here: a component takes them "
            "in its command",
        ),
        (
            "kind: pipeline\nname: p\nlabels:\n  home: '{{ python }}'\n"
            "steps: {a: {component: x}}\n",
            "labels.home (line 4): {{ python }} is filled in when the CLI registers a spec file "
            "(boxops pipelines register FILE); a spec sent over HTTP must have it filled in",
        ),
    ],
)
def test_a_placeholder_nothing_fills_is_refused_naming_field_and_line(
    text: str, problem: str
) -> None:
    with pytest.raises(SpecError) as refused:
        load(text, KINDS)
    assert refused.value.problems == [problem]


def test_descriptions_param_defaults_and_run_placeholders_are_accepted() -> None:
    text = (
        "kind: component\nname: t\ndescription: 'writes {{ outputs.x }}'\n"
        "command: [x, '{{ inputs.data }}', '{{ outputs.out }}', '{{ run.id }}', '{{params.p}}']\n"
        "params: {p: {type: str, default: '{{ outputs.out }}'}}\n"
        "inputs: {data: {type: dataset}}\noutputs: {out: {type: file}}\n"
    )
    assert isinstance(load(text, KINDS), ComponentSpec)
