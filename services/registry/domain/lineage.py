"""The lineage graph: nodes are dataset versions, model versions and runs; an edge says the
data flowed from one to the other (input → run → output, parent version → derived version)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from services.registry.domain.refs import number

Kind = Literal["dataset", "model", "run"]
Direction = Literal["upstream", "downstream"]


@dataclass(frozen=True)
class Node:
    kind: Kind
    name: str  # dataset or model name; the run id for runs
    version: int | None = None

    @property
    def key(self) -> str:
        if self.kind == "run":
            return f"run:{self.name}"
        return f"{self.kind}:{self.name}@{self.version}"


def parse_node(key: str) -> Node:
    kind, _, rest = key.partition(":")
    if kind == "run":
        return Node("run", rest)
    name, _, version = rest.rpartition("@")
    if kind not in ("dataset", "model") or not name or not number(version):
        raise ValueError(f"not a lineage node: {key!r}")
    return Node(kind, name, int(version))  # type: ignore[arg-type]


def parent_ref(key: str) -> str:
    """How a version names its parents: `iris@3` for a dataset, `model:clf@2` for a model."""
    return key.removeprefix("dataset:")


@dataclass
class Tree:
    node: Node
    children: list["Tree"] = field(default_factory=list)
    truncated: bool = False  # more lies beyond the depth asked for
    repeated: bool = False  # already shown on this path: a cycle, not followed again


def tree(root: Node, adjacent: Mapping[str, Sequence[str]], depth: int) -> Tree:
    """The tree reachable from `root` through `adjacent` (one direction), `depth` edges deep."""

    def grow(node: Node, level: int, path: frozenset[str]) -> Tree:
        here = Tree(node)
        neighbours = sorted(adjacent.get(node.key, ()))
        if neighbours and level >= depth:
            here.truncated = True
            return here
        for key in neighbours:
            child = parse_node(key)
            if key in path:
                here.children.append(Tree(child, repeated=True))
            else:
                here.children.append(grow(child, level + 1, path | {key}))
        return here

    return grow(root, 0, frozenset({root.key}))


def frontier(adjacent: Mapping[str, Sequence[str]], keys: Sequence[str]) -> list[str]:
    """Nodes one step beyond `keys` not yet expanded: what the next query must load."""
    return sorted({n for k in keys for n in adjacent.get(k, ()) if n not in adjacent})
