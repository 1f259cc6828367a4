"""`@boxops.component`: a Python function declared as a component, compiled to the same
`ComponentSpec` a YAML file gives.

The command runs the function through `python -m boxops.entry MODULE:FUNCTION`, with the
folder of the registered file on the import path (`{{ spec.dir }}`, filled in with
`{{ python }}` by the CLI, as in a YAML file). The spec models are built on first use of
`.spec`: a black box importing its own module pays nothing for them.
"""

import functools
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from boxops.declare import tracing
from boxops.declare.kinds import DeclarationError, Kind
from boxops.declare.signature import Parameter, description, parameters

if TYPE_CHECKING:
    from shared.specs import ComponentSpec


# The function is imported from the registered file's folder: `{{ spec.dir }}` and
# `{{ python }}` are filled in by the CLI, as in a YAML file.
RUNNER = ["{{ python }}", "-m", "boxops.entry", "--path", "{{ spec.dir }}"]


class Component:
    """A declared component. Called inside a `@boxops.pipeline` function it records a step
    and returns its handle; called anywhere else it runs the function."""

    def __init__(
        self,
        fn: Callable[..., Any],
        name: str | None = None,
        outputs: Mapping[str, Kind | type[Kind]] | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.name = name or fn.__name__
        self.where = f"component {self.name} ({fn.__qualname__})"
        self.parameters = parameters(fn, self.where)
        self.outputs = _outputs(outputs or {}, self.where)
        self.options = {k: v for k, v in (options or {}).items() if v is not None}
        self._spec: ComponentSpec | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        tracer = tracing.current()
        if tracer is None:
            return self.fn(*args, **kwargs)
        return tracer.step(self, args, kwargs)

    def __repr__(self) -> str:
        return f"<boxops component {self.name} of {self.reference}>"

    @property
    def reference(self) -> str:
        """`module:function`, what `boxops.entry` imports."""
        return f"{module_of(self.fn)}:{self.fn.__qualname__}"

    @property
    def spec(self) -> "ComponentSpec":
        """The component's spec, as a YAML file would give it (compiled once)."""
        if self._spec is None:
            from boxops.declare.specs import component_spec

            self._spec = component_spec(self.fields(), self.where)
        return self._spec

    def fields(self) -> dict[str, Any]:
        """The spec's fields, as a YAML file would hold them (plain data)."""
        fields = {
            "name": self.name,
            "description": description(self.fn),
            "command": [*RUNNER, self.reference],
            "params": {p.name: p.field() for p in self.params()},
            "inputs": {p.name: p.field() for p in self.inputs()},
            "outputs": {
                key: {"type": out.kind, "name": out.name, "description": out.description}
                for key, out in self.outputs.items()
            },
        }
        return fields | self.options

    def params(self) -> list[Parameter]:
        return [p for p in self.parameters if not p.is_input]

    def inputs(self) -> list[Parameter]:
        return [p for p in self.parameters if p.is_input]


@overload
def component(fn: Callable[..., Any], /) -> Component: ...


@overload
def component(
    fn: None = None,
    /,
    *,
    name: str | None = None,
    outputs: Mapping[str, Kind | type[Kind]] | None = None,
    **options: Any,
) -> Callable[[Callable[..., Any]], Component]: ...


def component(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    outputs: Mapping[str, Kind | type[Kind]] | None = None,
    **options: Any,
) -> Component | Callable[[Callable[..., Any]], Component]:
    """Declare a component: `@boxops.component` or `@boxops.component(outputs=…, …)`.

    `options` are the component spec's other fields: `type`, `description` (default: the
    docstring's first paragraph), `image`, `backend`, `resources`, `env`, `timeout`,
    `retries`, `cache`, `labels`, …; a field the spec does not have is refused by name."""

    def declare(function: Callable[..., Any]) -> Component:
        return Component(function, name, outputs, options)

    return declare if fn is None else declare(fn)


def module_of(fn: Callable[..., Any]) -> str:
    """The module to import `fn` from; a script run as `__main__` by its file's name."""
    if fn.__module__ != "__main__":
        return fn.__module__
    return Path(fn.__code__.co_filename).stem


def _outputs(declared: Mapping[str, Kind | type[Kind]], where: str) -> dict[str, Kind]:
    found = {}
    for key, value in declared.items():
        if isinstance(value, type) and issubclass(value, Kind):
            value = value()
        if not isinstance(value, Kind):
            raise DeclarationError(
                f"{where}: output {key!r} is {value!r}; declare it as boxops.Dataset(name), "
                "boxops.Model(name), boxops.File() or boxops.Metrics()"
            )
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", key):
            raise DeclarationError(
                f"{where}: output {key!r} is not a valid name (letters, digits, _)"
            )
        found[key] = value
    return found
