"""Reading a Python file for the components and pipelines it declares (what
`boxops components register FILE.py` and `boxops pipelines register FILE.py` do)."""

import importlib.util
import sys
from pathlib import Path

from boxops.declare.component import Component
from boxops.declare.kinds import DeclarationError
from boxops.declare.pipeline import Pipeline


def declared_in(path: Path) -> list[Component | Pipeline]:
    """Every component and pipeline the file's module holds, in the order defined; the file
    is imported as a module named after it, its folder first on the import path (as
    `boxops.entry` imports it in a run)."""
    folder, name = str(path.resolve().parent), path.stem
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise DeclarationError(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except DeclarationError as err:
        raise DeclarationError(f"{path}: {err}") from None
    except Exception as err:  # the user's code: any failure is theirs to see, on one line
        raise DeclarationError(f"{path}: importing it failed: {_where(err, path)}") from None
    found: dict[int, Component | Pipeline] = {}
    for value in vars(module).values():
        if isinstance(value, (Component, Pipeline)):
            found.setdefault(id(value), value)
    return list(found.values())


def components_of(declared: list[Component | Pipeline]) -> list[Component]:
    """The components declared, then those the pipelines use, each once by name."""
    found: dict[str, Component] = {}
    for item in declared:
        for component in item.components if isinstance(item, Pipeline) else [item]:
            seen = found.setdefault(component.name, component)
            if seen.fn is not component.fn:
                raise DeclarationError(f"two different components are named {seen.name!r}")
    return list(found.values())


def _where(err: Exception, path: Path) -> str:
    """`Kind: message (line N)`, N the deepest line of the file in the traceback."""
    line = None
    trace = err.__traceback__
    while trace is not None:
        if Path(trace.tb_frame.f_code.co_filename).resolve() == path.resolve():
            line = trace.tb_lineno
        trace = trace.tb_next
    if isinstance(err, SyntaxError):
        return f"SyntaxError: {err.msg} (line {err.lineno})"
    at = f" (line {line})" if line else ""
    return f"{type(err).__name__}: {err}{at}"
