"""Declared components and pipelines compiled to the spec models YAML files are read into
(`shared.specs`), and those specs as YAML. Pure logic; imported on first use of `.spec`,
with the fields each declaration gathered (`Component.fields()`, `Pipeline.fields()`)."""

from typing import Any

import yaml
from pydantic import ValidationError

from boxops.declare.kinds import DeclarationError
from shared.specs import ComponentSpec, PipelineSpec, Spec, validation_problems


def component_spec(fields: dict[str, Any], where: str) -> ComponentSpec:
    return _validated(ComponentSpec, fields, where)


def pipeline_spec(fields: dict[str, Any], where: str) -> PipelineSpec:
    return _validated(PipelineSpec, fields, where)


def to_yaml(specs: list[Spec]) -> str:
    """The specs as YAML documents, `kind` first and defaults left out, as one writes them."""
    documents = []
    for spec in specs:
        fields = spec.model_dump(mode="json", exclude_defaults=True)
        documents.append({"kind": spec.kind, **fields})
    return yaml.safe_dump_all(
        documents, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100
    )


def _validated(
    model: type[ComponentSpec] | type[PipelineSpec], fields: dict[str, Any], where: str
) -> Any:
    unknown = sorted(set(fields) - set(model.model_fields))
    if unknown:
        raise DeclarationError(f"{where}: {', '.join(map(repr, unknown))}: no such spec field")
    try:
        return model.model_validate(fields)
    except ValidationError as err:
        raise DeclarationError(f"{where}: {'; '.join(validation_problems(err))}") from None
