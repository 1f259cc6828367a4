"""Placeholders (`{{ params.lr }}`) in component and pipeline specs: where each may stand, and
the two a spec file's reader fills in at registration. Pure logic, no I/O.

`{{ spec.dir }}` (the folder the spec file lies in) and `{{ python }}` (the Python running
boxops) are filled in by the CLI when it registers a file; the registry takes specs with
them filled in. Every other placeholder is filled in for each run: in a component's command
`{{ params.<name> }}`, `{{ inputs.<name> }}` and `{{ outputs.<name> }}` of those it declares
and `{{ run.id }}`; in a pipeline, its wiring (steps' inputs and params, its outputs), which
the registry checks against the steps' components.
"""

import re
import sys
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

REFERENCE = re.compile(r"\{\{\s*([a-zA-Z0-9_.\-]+)\s*\}\}")
PROPERTIES = re.compile(r"(?:[&!]\S*\s+)*")
AT_REGISTRATION = ("spec.dir", "python")
COMMAND = ("params", "inputs", "outputs")
KINDS = ("component", "pipeline")

Loc = tuple[str | int, ...]


def fill(text: str, values: Mapping[str, str]) -> str:
    """The spec text with the placeholders `values` names filled in. Each value holding one is
    rewritten in its place as a double-quoted string, so every line stays where it was and an
    error found later names the line of the file."""
    edits = []
    for scalar in _scalars(yaml.compose(text)):
        filled = REFERENCE.sub(lambda m: values.get(m.group(1), m.group(0)), scalar.value)
        if filled != scalar.value:
            breaks = "\n" * (scalar.end_mark.line - scalar.start_mark.line)
            start = _value_start(text, scalar.start_mark.index)
            edits.append((start, scalar.end_mark.index, _quoted(filled) + breaks))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def problems(kind: str, spec: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """Each placeholder nothing would fill, with where it stands; `spec` as validated."""
    found = []
    for loc, ref in _placeholders(spec, ()):
        if ref in AT_REGISTRATION:
            found.append((loc, _unfilled(kind, ref)))
        elif kind == "component" and loc[0] == "command":
            found += [(loc, message) for message in _in_command(spec, ref)]
        elif kind == "pipeline" and _wiring(loc):
            continue  # checked by the registry, against the steps' components
        else:
            where = "its command" if kind == "component" else "its steps' inputs and params"
            found.append(
                (loc, f"{{{{ {ref} }}}} is not filled in here: a {kind} takes them in {where}")
            )
    return found


def _unfilled(kind: str, ref: str) -> str:
    return (
        f"{{{{ {ref} }}}} is filled in when the CLI registers a spec file "
        f"(boxops {kind}s register FILE); a spec sent over HTTP must have it filled in"
    )


def _in_command(spec: Mapping[str, Any], ref: str) -> list[str]:
    what, _, name = ref.partition(".")
    if ref == "run.id":
        return []
    if what in COMMAND and name:
        declared = spec.get(what) or {}
        if name in declared:
            return []
        takes = ", ".join(sorted(declared)) or "none"
        return [f"{{{{ {ref} }}}}: no {what[:-1]} {name!r} is declared (it has: {takes})"]
    return [
        f"{{{{ {ref} }}}} is not a placeholder: a command takes {{{{ params.<name> }}}}, "
        "{{ inputs.<name> }}, {{ outputs.<name> }}, {{ run.id }}, and in a spec file "
        "{{ spec.dir }} and {{ python }}"
    ]


def _wiring(loc: Loc) -> bool:
    return loc[0] == "outputs" or (loc[0] == "steps" and loc[2:3] in (("inputs",), ("params",)))


def _placeholders(value: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    """(where, reference) of each placeholder, free text (descriptions) and values (param
    defaults) left out."""
    if isinstance(value, str):
        for match in REFERENCE.finditer(value):
            yield loc, match.group(1)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if key == "description" or (key == "default" and loc[:1] == ("params",)):
                continue
            yield from _placeholders(item, (*loc, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _placeholders(item, (*loc, i))


def _scalars(node: yaml.Node | None) -> Iterator[yaml.ScalarNode]:
    """Every scalar value (not key) of the document, each once."""
    seen: set[int] = set()
    todo = [node] if node is not None else []
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue  # an alias: the anchored node is edited where it stands
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            yield node
        elif isinstance(node, yaml.MappingNode):
            todo += [value for _, value in node.value]
        elif isinstance(node, yaml.SequenceNode):
            todo += node.value


def _value_start(text: str, index: int) -> int:
    """Where a scalar's value begins: after its `&anchor` and `!tag`, which stay."""
    found = PROPERTIES.match(text, index)
    return found.end() if found else index


def _quoted(text: str) -> str:
    """One line of YAML: a double-quoted string, escaped where it must be."""
    return yaml.safe_dump(text, default_style='"', allow_unicode=True, width=sys.maxsize).rstrip()
