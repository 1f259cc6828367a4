"""`@boxops.pipeline`: a Python function whose component calls are a pipeline's steps,
compiled to the same `PipelineSpec` a YAML file gives.

The function is traced, not run: its params are `{{ params.x }}`, its inputs (annotated
`boxops.Dataset`, `boxops.Model`, `boxops.File`) `{{ inputs.x }}`, and a step's
`.outputs.y` is `{{ steps.s.outputs.y }}` in the steps that take it. It returns nothing,
one step output, or a dict naming the pipeline's outputs.
"""

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast, overload

from boxops.declare import tracing
from boxops.declare.component import Component
from boxops.declare.kinds import DeclarationError
from boxops.declare.refs import InputRef, OutputRef, ParamRef
from boxops.declare.signature import description, parameters

if TYPE_CHECKING:
    from shared.specs import PipelineSpec


class Pipeline:
    """A declared pipeline. Called outside another pipeline it runs its function, whose
    components then run right here, one after another."""

    def __init__(
        self, fn: Callable[..., Any], name: str | None = None, options: dict[str, Any] | None = None
    ) -> None:
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.name = name or fn.__name__
        self.where = f"pipeline {self.name} ({fn.__qualname__})"
        self.parameters = parameters(fn, self.where)
        self.options = {k: v for k, v in (options or {}).items() if v is not None}
        self._traced: tuple[dict[str, tracing.Step], Any] | None = None
        self._spec: PipelineSpec | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if tracing.current() is not None:
            raise DeclarationError(f"{self.where}: a pipeline cannot be a step of another one")
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<boxops pipeline {self.name}>"

    def trace(self) -> tuple[dict[str, tracing.Step], Any]:
        """The steps the function records, and what it returns (traced once)."""
        if self._traced is None:
            refs = {
                p.name: InputRef(p.name, p.type) if p.is_input else ParamRef(p.name)
                for p in self.parameters
            }
            with tracing.traced(tracing.Tracer(self.where)) as tracer:
                try:
                    returned = self.fn(**refs)
                except DeclarationError:
                    raise
                except (TypeError, ValueError, AttributeError) as err:
                    # Computing with a param while tracing: it is a placeholder, not a value.
                    raise DeclarationError(
                        f"{self.where}: {type(err).__name__}: {err}; while it is traced its "
                        "params and inputs are placeholders, to pass to components as they are"
                    ) from None
            if not tracer.steps:
                raise DeclarationError(f"{self.where}: it calls no component, so it has no steps")
            self._traced = (tracer.steps, returned)
        return self._traced

    @property
    def components(self) -> list[Component]:
        """The components its steps run, each once, in the order they are first called."""
        found: dict[str, Component] = {}
        for step in self.trace()[0].values():
            component = cast(Component, step.component)  # only a Component records a step
            seen = found.setdefault(component.name, component)
            if seen is not component and seen.fn is not component.fn:
                raise DeclarationError(
                    f"{self.where}: two different components are named {seen.name!r}"
                )
        return list(found.values())

    def outputs(self) -> dict[str, str]:
        """The pipeline's outputs: name → `{{ steps.s.outputs.y }}`."""
        returned = self.trace()[1]
        if returned is None:
            return {}
        if isinstance(returned, OutputRef):
            return {returned.name: str(returned)}
        if isinstance(returned, dict) and all(isinstance(v, OutputRef) for v in returned.values()):
            return {str(k): str(v) for k, v in returned.items()}
        raise DeclarationError(
            f"{self.where}: it returns {returned!r}; a pipeline returns nothing, one step "
            "output or a dict of them"
        )

    @property
    def spec(self) -> "PipelineSpec":
        """The pipeline's spec, as a YAML file would give it (compiled once)."""
        if self._spec is None:
            from boxops.declare.specs import pipeline_spec

            self._spec = pipeline_spec(self.fields(), self.where)
        return self._spec

    def fields(self) -> dict[str, Any]:
        """The spec's fields, as a YAML file would hold them (plain data)."""
        steps = {
            name: {
                "component": s.component.name,
                "inputs": s.inputs,
                "params": s.params,
                "after": s.after,
            }
            for name, s in self.trace()[0].items()
        }
        fields = {
            "name": self.name,
            "description": description(self.fn),
            "params": {p.name: p.field() for p in self.parameters if not p.is_input},
            "inputs": {p.name: p.field() for p in self.parameters if p.is_input},
            "steps": steps,
            "outputs": self.outputs(),
        }
        return fields | self.options


@overload
def pipeline(fn: Callable[..., Any], /) -> Pipeline: ...


@overload
def pipeline(
    fn: None = None, /, *, name: str | None = None, **options: Any
) -> Callable[[Callable[..., Any]], Pipeline]: ...


def pipeline(
    fn: Callable[..., Any] | None = None, /, *, name: str | None = None, **options: Any
) -> Pipeline | Callable[[Callable[..., Any]], Pipeline]:
    """Declare a pipeline: `@boxops.pipeline` or `@boxops.pipeline(name=…, …)`; `options`
    are the pipeline spec's other fields (`description`, `max_concurrency`, `labels`)."""

    def declare(function: Callable[..., Any]) -> Pipeline:
        return Pipeline(function, name, options)

    return declare if fn is None else declare(fn)
