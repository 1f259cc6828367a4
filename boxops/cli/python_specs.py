"""Python files declaring components and pipelines, for `boxops components …` and
`boxops pipelines …`: each declared spec as the YAML text a spec file would hold, registered
or printed the same way."""

from pathlib import Path
from typing import Any

from boxops.cli.common import fail, print_json
from boxops.cli.spec_files import code_of, filled, post_spec, report


def specs_of(file: Path, kind: str) -> list[Any]:
    """The specs to register for `kind`: the file's components (also those its pipelines
    use), then, for pipelines, its pipelines. A bad declaration is a message, exit 2."""
    from boxops.declare import DeclarationError, Pipeline
    from boxops.declare.files import components_of, declared_in

    try:
        declared = declared_in(file)
        specs: list[Any] = [c.spec for c in components_of(declared)]
        if kind == "pipeline":
            specs += [p.spec for p in declared if isinstance(p, Pipeline)]
    except DeclarationError as error:
        fail(str(error))
    if not any(spec.kind == kind for spec in specs):
        fail(f"{file}: declares no {kind} (@boxops.{kind})")
    return specs


def register_python(file: Path, kind: str, json_out: bool, *, git: bool) -> None:
    """Register each spec the file declares, components first; with --json, a list of the
    registry's answers."""
    from boxops.declare.specs import to_yaml

    code = code_of(file) if git else None
    answers = []
    for spec in specs_of(file, kind):
        extra = {"code": code} if code and spec.kind == "component" else None
        label = f"{file} ({spec.kind} {spec.name})"
        found = post_spec(filled(to_yaml([spec]), file), label, spec.kind, extra)
        answers.append(found)
        if not json_out:
            report(found, spec.kind, json_out)
    if json_out:
        print_json(answers)


def export_python(file: Path, kind: str) -> None:
    """Print the YAML of each `kind` the file declares, as documents of one stream."""
    from boxops.declare.specs import to_yaml

    if file.suffix != ".py":
        fail(f"{file}: export reads a Python file declaring {kind}s")
    specs = [spec for spec in specs_of(file, kind) if spec.kind == kind]
    print(to_yaml(specs), end="")
