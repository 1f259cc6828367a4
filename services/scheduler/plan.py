"""Turning a component and a request into what an executor runs: params typed and defaulted,
inputs checked, the command templated, a cache key. Pure logic."""

import hashlib
import json
import re
from typing import Any

from shared.events import DeclaredOutput, InputRef
from shared.param_values import convert
from shared.specs import REFERENCE, ComponentSpec, Param


class PlanError(ValueError):
    """The request does not fit the component; the text names the problem."""


def typed_params(
    spec_params: dict[str, Param], given: dict[str, Any], owner: str
) -> dict[str, Any]:
    """Given params checked against the spec, converted from strings where needed, defaulted."""
    unknown = sorted(set(given) - set(spec_params))
    if unknown:
        known = ", ".join(sorted(spec_params)) or "none"
        raise PlanError(f"unknown param {unknown[0]!r} for {owner} (it takes: {known})")
    values = {}
    for name, param in spec_params.items():
        if name in given:
            values[name] = _typed(name, param.type, given[name])
        elif param.default is not None:
            values[name] = param.default
        elif param.required:
            raise PlanError(f"missing required param {name!r} ({param.type}) for {owner}")
    return values


def _typed(name: str, kind: str, value: Any) -> Any:
    try:
        return convert(kind, value)
    except (TypeError, ValueError):
        raise PlanError(f"param {name!r} must be {kind}, got {value!r}") from None


def check_inputs(spec: ComponentSpec, inputs: dict[str, InputRef], owner: str) -> None:
    unknown = sorted(set(inputs) - set(spec.inputs))
    if unknown:
        known = ", ".join(sorted(spec.inputs)) or "none"
        raise PlanError(f"unknown input {unknown[0]!r} for {owner} (it takes: {known})")
    for name, declared in spec.inputs.items():
        if name not in inputs:
            if declared.required:
                raise PlanError(f"missing required input {name!r} ({declared.type}) for {owner}")
            continue
        if inputs[name].type != declared.type:
            raise PlanError(
                f"input {name!r} of {owner} is a {declared.type}, got a {inputs[name].type}"
            )


def render(command: list[str], params: dict[str, Any], run_id: str) -> list[str]:
    """Fill `{{ params.x }}` and `{{ run.id }}`; `{{ inputs.x }}`/`{{ outputs.x }}` are paths
    only the executor knows, so they stay for it to fill."""

    def fill(match: re.Match[str]) -> str:
        ref = match.group(1)
        head, _, rest = ref.partition(".")
        if head == "params":
            if rest not in params:
                raise PlanError(f"command refers to unknown param {rest!r}")
            value = params[rest]
            return json.dumps(value) if isinstance(value, (dict, list)) else str(value)
        if ref == "run.id":
            return run_id
        if head in ("inputs", "outputs"):
            return match.group(0)
        raise PlanError(f"command refers to {ref!r}; use params.*, inputs.*, outputs.* or run.id")

    return [REFERENCE.sub(fill, part) for part in command]


def declared_outputs(spec: ComponentSpec) -> dict[str, DeclaredOutput]:
    return {
        name: DeclaredOutput(
            type=output.type, name=output.name or _default_name(spec, name, output.type)
        )
        for name, output in spec.outputs.items()
    }


def _default_name(spec: ComponentSpec, output: str, kind: str) -> str | None:
    return f"{spec.name}-{output}" if kind in ("dataset", "model") else None


def cache_key(
    component: str, digest: str, params: dict[str, Any], inputs: dict[str, InputRef]
) -> str:
    """Same component version, params and input contents → same key."""
    material = {
        "component": component,
        "digest": digest,
        "params": params,
        "inputs": {
            name: ref.digest or sorted(f.sha256 for f in ref.files) or ref.uri
            for name, ref in sorted(inputs.items())
        },
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()
