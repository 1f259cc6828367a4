"""What the registry answers: lists, versions, files, lineage trees. Read-only."""

from sqlmodel.ext.asyncio.session import AsyncSession

from services.registry import lookup, specs, views
from services.registry.domain import lineage
from services.registry.domain.lineage import Node, Tree
from services.registry.errors import Invalid, NotFound
from services.registry.store import datasets, models
from services.registry.store import lineage as edges
from services.registry.store import specs as spec_store
from services.registry.tables import ComponentRow, PipelineRow
from shared.queries import RefQuery
from shared.registry_api import (
    DatasetVersionView,
    FilesQuery,
    LineageNode,
    LineageQuery,
    LineageView,
    ListQuery,
    ModelVersionView,
    NameQuery,
    Page,
    VersionQuery,
    VersionsQuery,
)


def page(items: list[object], total: int, limit: int, offset: int) -> Page:
    return Page(items=items, total=total, limit=limit, offset=offset)


async def dataset_list(session: AsyncSession, query: ListQuery) -> Page:
    rows, total = await datasets.page(session, query)
    return page([views.dataset(*row) for row in rows], total, query.limit, query.offset)


async def dataset(session: AsyncSession, query: NameQuery) -> object:
    row = await datasets.dataset(session, query.name)
    if row is None or row.id is None:
        raise NotFound(f"no dataset {query.name!r}")
    latest, count = (await datasets.version_stats(session, [row.id])).get(row.id, (None, 0))
    return views.dataset(row, latest, count)


async def dataset_versions(session: AsyncSession, query: VersionsQuery) -> Page:
    found = await datasets.dataset(session, query.name)
    if found is None or found.id is None:
        raise NotFound(f"no dataset {query.name!r}")
    rows, total = await datasets.versions(
        session, found.id, limit=query.limit, offset=query.offset, digest=query.digest
    )
    items = [views.dataset_version(found.name, row) for row in rows]
    return page(list(items), total, query.limit, query.offset)


async def dataset_version(session: AsyncSession, query: VersionQuery) -> DatasetVersionView:
    found, row = await lookup.dataset_version(session, query.ref)
    assert row.id is not None  # noqa: S101
    files = await datasets.files(session, row.id) if query.files else None
    return views.dataset_version(found.name, row, files)


async def dataset_files(session: AsyncSession, query: FilesQuery) -> Page:
    _, row = await lookup.dataset_version(session, query.ref)
    assert row.id is not None  # noqa: S101
    files = await datasets.files(session, row.id, offset=query.offset, limit=query.limit)
    return page(list(files), row.file_count, query.limit, query.offset)


async def model_list(session: AsyncSession, query: ListQuery) -> Page:
    rows, total = await models.page(session, query)
    items = [
        views.model(row, latest, count, await models.aliases(session, row.id or 0))
        for row, latest, count in rows
    ]
    return page(list(items), total, query.limit, query.offset)


async def model(session: AsyncSession, query: NameQuery) -> object:
    row = await models.model(session, query.name)
    if row is None or row.id is None:
        raise NotFound(f"no model {query.name!r}")
    rows, total = await models.versions(session, row.id, limit=1, offset=0, digest=None)
    latest = rows[0].version if rows else None
    return views.model(row, latest, total, await models.aliases(session, row.id))


async def model_versions(session: AsyncSession, query: VersionsQuery) -> Page:
    found = await models.model(session, query.name)
    if found is None or found.id is None:
        raise NotFound(f"no model {query.name!r}")
    rows, total = await models.versions(
        session, found.id, limit=query.limit, offset=query.offset, digest=query.digest
    )
    items = [
        views.model_version(
            found.name, row, await models.aliases_of(session, found.id, row.version)
        )
        for row in rows
    ]
    return page(list(items), total, query.limit, query.offset)


async def model_version(session: AsyncSession, query: RefQuery) -> ModelVersionView:
    found, row = await lookup.model_version(session, query.ref)
    aliases = await models.aliases_of(session, found.id or 0, row.version)
    return views.model_version(found.name, row, aliases)


async def component_list(session: AsyncSession, query: ListQuery) -> Page:
    rows, total = await spec_store.page(session, ComponentRow, query)
    return page([views.component(r) for r in rows], total, query.limit, query.offset)


async def component_versions(session: AsyncSession, query: VersionsQuery) -> Page:
    rows, total = await spec_store.versions(
        session, ComponentRow, query.name, limit=query.limit, offset=query.offset
    )
    if not total:
        raise NotFound(f"no component {query.name!r}")
    return page([views.component(r) for r in rows], total, query.limit, query.offset)


async def component(session: AsyncSession, query: RefQuery) -> object:
    return views.component(await specs.component(session, query.ref))


async def pipeline_list(session: AsyncSession, query: ListQuery) -> Page:
    rows, total = await spec_store.page(session, PipelineRow, query)
    items = [
        views.pipeline(*(await specs.pipeline(session, f"{r.name}@{r.version}"))) for r in rows
    ]
    return page(list(items), total, query.limit, query.offset)


async def pipeline_versions(session: AsyncSession, query: VersionsQuery) -> Page:
    rows, total = await spec_store.versions(
        session, PipelineRow, query.name, limit=query.limit, offset=query.offset
    )
    if not total:
        raise NotFound(f"no pipeline {query.name!r}")
    items = [
        views.pipeline(*(await specs.pipeline(session, f"{r.name}@{r.version}"))) for r in rows
    ]
    return page(list(items), total, query.limit, query.offset)


async def pipeline(session: AsyncSession, query: RefQuery) -> object:
    return views.pipeline(*(await specs.pipeline(session, query.ref)))


async def lineage_of(session: AsyncSession, query: LineageQuery) -> LineageView:
    """The upstream and downstream trees of a version or run, `depth` edges each way."""
    root = await _root(session, query.node)
    trees = {}
    for upstream in (True, False):
        adjacent: dict[str, list[str]] = {}
        keys = [root.key]
        for _ in range(query.depth + 1):  # one level more: to know what is truncated
            adjacent.update(await edges.neighbours(session, keys, upstream=upstream))
            keys = lineage.frontier(adjacent, keys)
        trees[upstream] = lineage.tree(root, adjacent, query.depth)
    labels = await _labels(session, [trees[True], trees[False]])
    degrees = await edges.degrees(session, _keys([trees[True], trees[False]]))
    return LineageView(
        root=_node(Tree(root), labels, degrees),
        upstream=[_node(t, labels, degrees) for t in trees[True].children],
        downstream=[_node(t, labels, degrees) for t in trees[False].children],
    )


async def _root(session: AsyncSession, text: str) -> Node:
    kind, _, ref = text.partition(":")
    if kind == "run" and ref:
        return Node("run", ref)
    if kind == "dataset":
        found, row = await lookup.dataset_version(session, ref)
        return Node("dataset", found.name, row.version)
    if kind == "model":
        model_row, version = await lookup.model_version(session, ref)
        return Node("model", model_row.name, version.version)
    raise Invalid(f"lineage of {text!r}: give dataset:NAME@VERSION, model:NAME@REF or run:ID")


async def _labels(session: AsyncSession, trees: list[Tree]) -> dict[str, str]:
    runs: list[str] = []
    stack = list(trees)
    while stack:
        tree = stack.pop()
        if tree.node.kind == "run":
            runs.append(tree.node.name)
        stack.extend(tree.children)
    found = await edges.runs(session, runs)
    return {run_id: row.pipeline or row.component or "" for run_id, row in found.items()}


def _keys(trees: list[Tree]) -> list[str]:
    """Every node of the trees, once: whose edges to count."""
    found: set[str] = set()
    stack = list(trees)
    while stack:
        tree = stack.pop()
        found.add(tree.node.key)
        stack.extend(tree.children)
    return sorted(found)


def _node(tree: Tree, labels: dict[str, str], degrees: dict[str, tuple[int, int]]) -> LineageNode:
    node = tree.node
    ref = node.name if node.kind == "run" else f"{node.name}@{node.version}"
    edges_in, edges_out = degrees.get(node.key, (0, 0))
    return LineageNode(
        kind=node.kind,
        ref=ref,
        label=labels.get(node.name, "") if node.kind == "run" else "",
        children=[_node(child, labels, degrees) for child in tree.children],
        truncated=tree.truncated,
        repeated=tree.repeated,
        edges_in=edges_in,
        edges_out=edges_out,
    )
