"""No import cycles among the modules of shared/, services/ and boxops/.

The graph is read from the source (ast, nothing is imported) and counts every import: at
module level, inside functions, and under `if TYPE_CHECKING:`. A lazy or type-only import
does not run at import time, but it still makes two modules that each need the other;
hiding the cycle only moves it from the interpreter to the reader.
"""

import ast
from collections import deque
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("shared", "services", "boxops")

Graph = dict[str, set[str]]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources() -> dict[str, tuple[Path, str]]:
    """Each module's name → (its file, its text)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = (path, path.read_text(encoding="utf-8"))
    return found


def imports_of(module: str, is_package: bool, source: str, known: Iterable[str]) -> set[str]:
    """The known modules that `module` imports, wherever in the file the import stands."""
    known = set(known)
    here = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(_longest_known(alias.name, known) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module, node.level, here)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                # `from pkg import name`: the submodule if `name` is one, else pkg itself.
                found.add(submodule if submodule in known else _longest_known(base, known))
    found.discard("")
    return found


def _absolute(name: str | None, level: int, here: str) -> str:
    if level == 0:
        return name or ""
    parts = here.split(".")
    base = ".".join(parts[: len(parts) - (level - 1)])
    return f"{base}.{name}" if name else base


def _longest_known(name: str, known: set[str]) -> str:
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in known:
            return ".".join(parts[:end])
    return ""  # outside these packages


def import_graph() -> Graph:
    found = sources()
    return {
        name: imports_of(name, path.name == "__init__.py", text, found)
        for name, (path, text) in found.items()
    }


def find_cycles(graph: Graph) -> list[list[str]]:
    """One cycle per group of modules that import each other, e.g. ["a", "b", "a"]."""
    return sorted(_cycle_through(min(group), group, graph) for group in _tangles(graph))


def _tangles(graph: Graph) -> list[set[str]]:
    """Strongly connected groups that hold a cycle (Tarjan), self-imports included."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = {stack.pop()}
            while node not in group:
                group.add(stack.pop())
            if len(group) > 1 or node in graph.get(node, ()):
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def _cycle_through(start: str, group: set[str], graph: Graph) -> list[str]:
    """The shortest way from `start` back to itself inside its group."""
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in sorted(graph.get(node, set()) & group):
            if target == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if target not in came_from:
                came_from[target] = node
                queue.append(target)
    raise AssertionError(f"{start} is in a tangle but on no cycle")


def test_no_module_of_shared_services_or_boxops_is_in_an_import_cycle() -> None:
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles:\n" + "\n".join(" → ".join(c) for c in cycles)


def test_the_graph_sees_the_modules_and_their_imports() -> None:
    graph = import_graph()
    assert "services.scheduler.domain" in graph["services.scheduler.handlers"]
    assert "shared.events" in graph["shared.specs"]
    assert len(graph) > 100


def test_the_cycle_finder_names_each_cycle_once() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}, "f": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"], ["e", "e"]]
    assert find_cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_the_cycle_finder_gives_the_shortest_way_round() -> None:
    graph = {"a": {"b", "x"}, "b": {"c"}, "c": {"a"}, "x": {"a"}}
    assert find_cycles(graph) == [["a", "x", "a"]]


def test_imports_are_found_in_functions_and_under_type_checking() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from p.a import A\n"
        "def f():\n    import p.b.inner\n"
    )
    known = {"p", "p.a", "p.b", "p.c"}
    assert imports_of("p.c", False, source, known) == {"p.a", "p.b"}


def test_from_imports_resolve_to_the_submodule_or_the_package() -> None:
    source = "from p import a, NAME\nfrom . import b\nfrom .b import thing\nfrom .. import a\n"
    known = {"p", "p.a", "p.sub", "p.sub.b", "p.sub.c"}
    assert imports_of("p.sub.c", False, source, known) == {"p.a", "p", "p.sub.b"}
    assert imports_of("p.sub.b", False, "from .. import OTHER\n", known) == {"p"}
    assert imports_of("p.sub", True, "from . import c\n", known) == {"p.sub.c"}
