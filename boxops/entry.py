"""`python -m boxops.entry [--path DIR] MODULE:FUNCTION`: a declared component's function
run inside a run, as the run contract says (services/executor/contract.py).

It is called with the run's params (`$BOXOPS_PARAMS`, a JSON file, or else each
`$BOXOPS_PARAM_<NAME>`; a param the run does not give keeps the function's default) and its
inputs: `$BOXOPS_INPUTS/<name>` as a Path, the URI of an input handed over by URI
(`$BOXOPS_INPUT_<NAME>_URI`), or None for an optional input not bound. What it returns is
written to `$BOXOPS_OUTPUTS/<name>`: a dict keyed by output names gives each its value;
with one declared output, the value is that output's. A path (file or folder) is copied
there; a `boxops.Metrics()` output takes a dict of numbers, written as `metrics.json`. A
function may also write to `boxops.outputs(name)` itself and return nothing.
"""

import argparse
import importlib
import json
import os
import re
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from boxops.declare.component import Component
from boxops.declare.kinds import Kind


class EntryError(Exception):
    """The function cannot be found, called or its result written; the text says why."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m boxops.entry", description=__doc__)
    parser.add_argument("target", help="MODULE:FUNCTION of a @boxops.component")
    parser.add_argument("--path", action="append", default=[], help="Folder to import from.")
    args = parser.parse_args(argv)
    try:
        component = find(args.target, args.path)
        returned = component.fn(**arguments(component, os.environ))
        write_outputs(component, returned, Path(os.environ.get("BOXOPS_OUTPUTS", "outputs")))
    except EntryError as err:
        print(f"boxops.entry: {err}", file=sys.stderr)
        return 2
    return 0


def find(target: str, paths: list[str]) -> Component:
    """The component `MODULE:FUNCTION` names, imported with `paths` first on sys.path."""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise EntryError(f"expected MODULE:FUNCTION, got {target!r}")
    sys.path[:0] = paths
    module = importlib.import_module(module_name)
    found: Any = module
    for part in attribute.split("."):
        found = getattr(found, part, None)
    if not isinstance(found, Component):
        raise EntryError(f"{target} is not a @boxops.component (found {found!r})")
    return found


def arguments(component: Component, env: Mapping[str, str]) -> dict[str, Any]:
    """The function's keyword arguments from the run contract."""
    found = _params(component, env)
    inputs = Path(env.get("BOXOPS_INPUTS", "inputs"))
    for p in component.inputs():
        uri = env.get(f"BOXOPS_INPUT_{_env_name(p.name)}_URI")
        if (inputs / p.name).exists():
            found[p.name] = inputs / p.name
        elif uri:
            found[p.name] = uri
        elif p.required:
            raise EntryError(f"input {p.name!r} is not there: {inputs / p.name} does not exist")
    return found


def _params(component: Component, env: Mapping[str, str]) -> dict[str, Any]:
    """The params the run gives: `$BOXOPS_PARAMS` (typed JSON), or without it (the function
    run by hand) each `BOXOPS_PARAM_<NAME>` converted to its declared type."""
    path = env.get("BOXOPS_PARAMS")
    if path:
        try:
            given = json.loads(Path(path).read_text())
        except (OSError, ValueError) as err:
            raise EntryError(f"cannot read the run's params from {path}: {err}") from None
        given = given if isinstance(given, dict) else {}
        return {p.name: given[p.name] for p in component.params() if p.name in given}
    from shared.param_values import convert

    found = {}
    for p in component.params():
        text = env.get(f"BOXOPS_PARAM_{_env_name(p.name)}")
        if text is not None:
            try:
                found[p.name] = convert(p.type, text)
            except (TypeError, ValueError):
                raise EntryError(f"param {p.name!r} must be {p.type}, got {text!r}") from None
    return found


def _env_name(name: str) -> str:
    """As the run contract names a variable after a param or input (`data-set` → DATA_SET)."""
    return re.sub("[^A-Za-z0-9]", "_", name).upper()


def write_outputs(component: Component, returned: Any, root: Path) -> None:
    """What the function returned, under `root/<output>/`."""
    if returned is None:
        return
    declared = component.outputs
    if isinstance(returned, dict) and returned and set(returned) <= set(declared):
        values = returned
    elif len(declared) == 1:
        values = {next(iter(declared)): returned}
    else:
        has = ", ".join(declared) or "none"
        raise EntryError(
            f"{component.name} returned {type(returned).__name__}, but declares the outputs "
            f"{has}: return a dict keyed by them, or None after writing to boxops.outputs(name)"
        )
    for name, value in values.items():
        _write(name, declared[name], value, root / name)


def _write(name: str, kind: Kind, value: Any, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if kind.kind == "metrics":
        if not isinstance(value, dict):
            raise EntryError(f"output {name!r} takes a dict of numbers, not {value!r}")
        (folder / "metrics.json").write_text(json.dumps(value, default=float) + "\n")
        return
    if not isinstance(value, (str, os.PathLike)) or not Path(value).exists():
        raise EntryError(
            f"output {name!r} takes the path of a file or folder that exists, not {value!r}"
        )
    source = Path(value)
    if source.is_dir():
        shutil.copytree(source, folder, dirs_exist_ok=True)
    else:
        shutil.copy2(source, folder / source.name)


if __name__ == "__main__":
    sys.exit(main())
