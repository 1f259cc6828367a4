"""Declared components and pipelines compiled to the spec models YAML files are read into
(`shared.specs`), and those specs as YAML. Pure logic; imported on first use of `.spec`."""

from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

from boxops.declare.kinds import DeclarationError
from boxops.declare.signature import NO_DEFAULT, Parameter, description
from shared.specs import ComponentSpec, PipelineSpec, Spec, validation_problems

if TYPE_CHECKING:
    from boxops.declare.component import Component
    from boxops.declare.pipeline import Pipeline

RUNNER = ["{{ python }}", "-m", "boxops.entry", "--path", "{{ spec.dir }}"]


def component_spec(component: "Component") -> ComponentSpec:
    data = {
        "name": component.name,
        "description": description(component.fn),
        "command": [*RUNNER, component.reference],
        "params": {p.name: _param(p) for p in component.params()},
        "inputs": {p.name: _input(p) for p in component.inputs()},
        "outputs": {
            key: {"type": out.kind, "name": out.name, "description": out.description}
            for key, out in component.outputs.items()
        },
    }
    return _validated(ComponentSpec, data | component.options, component.where)


def pipeline_spec(pipeline: "Pipeline") -> PipelineSpec:
    steps, _ = pipeline.trace()
    data = {
        "name": pipeline.name,
        "description": description(pipeline.fn),
        "params": {p.name: _param(p) for p in pipeline.parameters if not p.is_input},
        "inputs": {p.name: _input(p) for p in pipeline.parameters if p.is_input},
        "steps": {
            name: {"component": s.component.name, "inputs": s.inputs, "params": s.params}
            for name, s in steps.items()
        },
        "outputs": pipeline.outputs(),
    }
    return _validated(PipelineSpec, data | pipeline.options, pipeline.where)


def to_yaml(specs: list[Spec]) -> str:
    """The specs as YAML documents, `kind` first and defaults left out, as one writes them."""
    documents = []
    for spec in specs:
        fields = spec.model_dump(mode="json", exclude_defaults=True)
        documents.append({"kind": spec.kind, **fields})
    return yaml.safe_dump_all(
        documents, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100
    )


def _param(p: Parameter) -> dict[str, Any]:
    if p.required:
        return {"type": p.type, "required": True}
    return {"type": p.type, "default": p.default}


def _input(p: Parameter) -> dict[str, Any]:
    return {"type": p.type, "required": p.default is NO_DEFAULT}


def _validated(model: type[Spec], data: dict[str, Any], where: str) -> Any:
    unknown = sorted(set(data) - set(model.model_fields))
    if unknown:
        raise DeclarationError(f"{where}: {', '.join(map(repr, unknown))}: no such spec field")
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise DeclarationError(f"{where}: {'; '.join(validation_problems(err))}") from None
