"""What a pipeline must satisfy beyond its schema: an acyclic DAG of known steps running
known components, every output wired to an input of the same kind, every required input bound.
Pure: the components come in as arguments."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.specs import REFERENCE, ComponentSpec, PipelineSpec

WIRES = "{{ steps.<step>.outputs.<output> }} or {{ inputs.<input> }}"


@dataclass(frozen=True)
class Problem:
    loc: tuple[str | int, ...]
    message: str


def check(spec: PipelineSpec, components: Mapping[str, ComponentSpec | None]) -> list[Problem]:
    """Every problem in step order; `components`: step → its component (None if unknown)."""
    problems: list[Problem] = []
    for name, step in spec.steps.items():
        component = components.get(name)
        if component is None:
            problems.append(
                Problem(("steps", name, "component"), f"unknown component {step.component!r}")
            )
        for i, after in enumerate(step.after):
            if after not in spec.steps:
                problems.append(Problem(("steps", name, "after", i), f"unknown step {after!r}"))
        problems += _inputs(spec, name, component, components)
        problems += _params(spec, name, component)
    for output, value in spec.outputs.items():
        problems += [
            Problem(("outputs", output), message)
            for message in _wire_problems(spec, value, components, None)
        ]
    cycle = find_cycle(spec.dependencies())
    if cycle:
        problems.append(Problem(("steps", cycle[0]), f"cycle: {' → '.join(cycle)}"))
    return problems


def _inputs(
    spec: PipelineSpec,
    name: str,
    component: ComponentSpec | None,
    components: Mapping[str, ComponentSpec | None],
) -> list[Problem]:
    step = spec.steps[name]
    problems = []
    for input_name, value in step.inputs.items():
        loc = ("steps", name, "inputs", input_name)
        declared = component.inputs.get(input_name) if component else None
        if component and declared is None:
            takes = ", ".join(sorted(component.inputs)) or "none"
            problems.append(
                Problem(loc, f"{component.name} has no input {input_name!r} (it takes: {takes})")
            )
            continue
        kind = declared.type if declared else None
        problems += [Problem(loc, m) for m in _wire_problems(spec, value, components, kind)]
    if component:
        for input_name, declared in component.inputs.items():
            if declared.required and input_name not in step.inputs:
                problems.append(
                    Problem(
                        ("steps", name, "inputs"),
                        f"missing required input {input_name!r} "
                        f"({declared.type}) of {component.name}",
                    )
                )
    return problems


def _wire_problems(
    spec: PipelineSpec,
    value: str,
    components: Mapping[str, ComponentSpec | None],
    kind: str | None,
) -> list[str]:
    """A value is a literal reference (NAME@VERSION, a blob id) or exactly one wire."""
    refs = REFERENCE.findall(value)
    if not refs:
        return []
    whole = REFERENCE.fullmatch(value.strip())
    if whole is None or len(refs) != 1:
        return [f"{value!r}: an input is wired to exactly one {WIRES}"]
    parts = whole.group(1).split(".")
    if parts[0] == "inputs" and len(parts) == 2:
        declared = spec.inputs.get(parts[1])
        if declared is None:
            return [f"unknown pipeline input {parts[1]!r}"]
        return _kinds(f"pipeline input {parts[1]}", declared.type, kind)
    if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
        return _step_output(spec, parts[1], parts[3], components, kind)
    return [f"{value!r} cannot be wired: use {WIRES}"]


def _step_output(
    spec: PipelineSpec,
    step: str,
    output: str,
    components: Mapping[str, ComponentSpec | None],
    kind: str | None,
) -> list[str]:
    if step not in spec.steps:
        return [f"unknown step {step!r}"]
    upstream = components.get(step)
    if upstream is None:
        return []  # its unknown component is reported on its own step
    declared = upstream.outputs.get(output)
    if declared is None:
        gives = ", ".join(sorted(upstream.outputs)) or "none"
        return [f"step {step} ({upstream.name}) has no output {output!r} (it gives: {gives})"]
    return _kinds(f"steps.{step}.outputs.{output}", declared.type, kind)


def _kinds(source: str, given: str, wanted: str | None) -> list[str]:
    if wanted is None or given == wanted:
        return []
    return [f"{source} is a {given}, but the input takes a {wanted}"]


def _params(spec: PipelineSpec, name: str, component: ComponentSpec | None) -> list[Problem]:
    step = spec.steps[name]
    problems = []
    for param, value in step.params.items():
        loc = ("steps", name, "params", param)
        if component and param not in component.params:
            takes = ", ".join(sorted(component.params)) or "none"
            problems.append(
                Problem(loc, f"{component.name} has no param {param!r} (it takes: {takes})")
            )
        for ref in REFERENCE.findall(str(value)):
            problems += [Problem(loc, m) for m in _param_ref(spec, ref)]
    if component:
        for param, declared in component.params.items():
            if declared.required and declared.default is None and param not in step.params:
                problems.append(
                    Problem(
                        ("steps", name, "params"),
                        f"missing required param {param!r} ({declared.type}) of {component.name}",
                    )
                )
    return problems


def _param_ref(spec: PipelineSpec, ref: str) -> list[str]:
    parts = ref.split(".")
    if parts[0] == "params" and len(parts) == 2:
        return [] if parts[1] in spec.params else [f"unknown pipeline param {parts[1]!r}"]
    if parts[0] == "steps" and len(parts) >= 2:
        return [] if parts[1] in spec.steps else [f"unknown step {parts[1]!r}"]
    return [f"{{{{ {ref} }}}} cannot be used in a param: use {{{{ params.<name> }}}}"]


def find_cycle(graph: Mapping[str, set[str]]) -> list[str] | None:
    """A cycle among known steps as [a, b, …, a], or None; unknown steps are ignored."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    trail: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        trail.append(node)
        for up in sorted(graph.get(node, ())):
            if up not in graph:
                continue
            if state.get(up) == 1:
                return [*trail[trail.index(up) :], up]
            if up not in state and (found := visit(up)):
                return found
        trail.pop()
        state[node] = 2
        return None

    for node in graph:
        if node not in state and (found := visit(node)):
            return found
    return None


def pinned_components(components: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Step → NAME@VERSION of the component version it was registered with."""
    return {step: f"{found['name']}@{found['version']}" for step, found in components.items()}
