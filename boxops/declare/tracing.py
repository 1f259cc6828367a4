"""Tracing a pipeline's function: each component it calls becomes a step, each argument the
placeholder or value the step is given. Nothing runs. Pure logic."""

import inspect
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

from boxops.declare.kinds import DeclarationError, Kind
from boxops.declare.refs import InputRef, OutputRef, ParamRef
from boxops.declare.signature import Parameter
from shared.param_values import convert


class Callee(Protocol):
    """What a step is made from: a declared component (boxops.declare.component)."""

    name: str
    fn: Callable[..., Any]
    parameters: list[Parameter]
    outputs: dict[str, Kind]


_tracer: ContextVar["Tracer | None"] = ContextVar("boxops_pipeline_tracer", default=None)
VALUES = (str, int, float, bool, list, dict, type(None))


def current() -> "Tracer | None":
    return _tracer.get()


@contextmanager
def traced(tracer: "Tracer") -> Iterator["Tracer"]:
    token = _tracer.set(tracer)
    try:
        yield tracer
    finally:
        _tracer.reset(token)


@dataclass
class Step:
    component: Callee
    inputs: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    after: list[str] = field(default_factory=list)


class Outputs:
    """A step's outputs by name: `step.outputs.model` or `step.outputs["model"]`."""

    def __init__(self, step: str, component: Callee, where: str) -> None:
        self._step, self._component, self.where = step, component, where

    def __getattr__(self, name: str) -> OutputRef:
        return self[name]

    def __getitem__(self, name: str) -> OutputRef:
        declared = self._component.outputs
        if name not in declared:
            has = ", ".join(declared) or "none"
            raise DeclarationError(
                f"{self.where}: step {self._step!r} has no output {name!r} "
                f"({self._component.name} declares: {has})"
            )
        return OutputRef(self._step, name, declared[name].kind)


@dataclass(frozen=True)
class StepHandle:
    """What calling a component in a pipeline gives: the step's name and its outputs."""

    name: str
    outputs: Outputs
    step: Step = field(repr=False)

    def after(self, *others: "StepHandle") -> "StepHandle":
        """Run this step only once `others` have ended (besides the outputs it takes)."""
        for other in others:
            if not isinstance(other, StepHandle):
                raise DeclarationError(
                    f"{self.outputs.where}: step {self.name!r} can run after steps only, "
                    f"not {other!r}"
                )
            self.step.after.append(other.name)
        return self


class Tracer:
    def __init__(self, pipeline: str) -> None:
        self.where = pipeline
        self.steps: dict[str, Step] = {}

    def step(self, component: Callee, args: tuple[Any, ...], kwargs: dict[str, Any]) -> StepHandle:
        """Record a call of `component` as a step; its handle."""
        name = self._name(component.name)
        where = f"{self.where}: step {name!r} ({component.name})"
        try:
            bound = inspect.signature(component.fn).bind_partial(*args, **kwargs).arguments
        except TypeError as err:
            raise DeclarationError(f"{where}: {err}") from None
        step = Step(component)
        for parameter in component.parameters:
            if parameter.name not in bound:
                if parameter.required:
                    what = "input" if parameter.is_input else "param"
                    raise DeclarationError(f"{where}: {what} {parameter.name!r} is not given")
                continue
            value = bound[parameter.name]
            if parameter.is_input:
                if value is not None:
                    step.inputs[parameter.name] = _input(value, parameter, where)
            else:
                step.params[parameter.name] = _param(value, parameter, where)
        self.steps[name] = step
        return StepHandle(name, Outputs(name, component, self.where), step)

    def _name(self, component: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_-]", "-", component)[:60]
        name, n = base, 1
        while name in self.steps:
            n += 1
            name = f"{base}-{n}"
        return name


def _input(value: Any, parameter: Parameter, where: str) -> str:
    if isinstance(value, (InputRef, OutputRef)):
        if value.kind != parameter.type:
            raise DeclarationError(
                f"{where}: input {parameter.name!r} takes a {parameter.type}, "
                f"but {value} is a {value.kind}"
            )
        return str(value)
    if isinstance(value, str):
        return value  # NAME@VERSION of a registered dataset or model
    raise DeclarationError(
        f"{where}: input {parameter.name!r} takes a pipeline input, a step's output or "
        f"NAME@VERSION, not {value!r}"
    )


def _param(value: Any, parameter: Parameter, where: str) -> Any:
    if isinstance(value, ParamRef):
        return str(value)
    if isinstance(value, (InputRef, OutputRef)):
        raise DeclarationError(
            f"{where}: param {parameter.name!r} takes a value or a pipeline param, not {value}"
        )
    if not isinstance(value, VALUES):
        raise DeclarationError(
            f"{where}: param {parameter.name!r} is {value!r}; a param is a str, int, float, "
            "bool, list or dict"
        )
    if value is not None and "{{" not in str(value):  # a placeholder is filled in per run
        try:
            convert(parameter.type, value)  # the scheduler's rule, applied to each run
        except (TypeError, ValueError):
            raise DeclarationError(
                f"{where}: param {parameter.name!r} must be {parameter.type}, got {value!r}"
            ) from None
    return value
