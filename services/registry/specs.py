"""Components and pipelines: YAML specs registered as immutable numbered versions."""

import hashlib
import json
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.registry.domain import pipelines
from services.registry.domain.refs import RefError, parse_ref
from services.registry.errors import Invalid, NotFound
from services.registry.store import specs as store
from services.registry.tables import ComponentRow, PipelineRow
from services.registry.tx import Tx
from shared.bus import now
from shared.events import ComponentRegistered, PipelineRegistered
from shared.specs import ComponentSpec, PipelineSpec, SpecError, load, problem


def digest(content: Any) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def parse(text: str, kind: type[ComponentSpec] | type[PipelineSpec]) -> Any:
    name = "component" if kind is ComponentSpec else "pipeline"
    try:
        return load(text, {name: kind})
    except SpecError as err:
        raise Invalid(f"invalid {name} spec: {err}", err.problems) from None


async def register_component(tx: Tx, text: str) -> tuple[ComponentRow, bool]:
    """The existing version when the spec says the same thing, else a new one."""
    spec: ComponentSpec = parse(text, ComponentSpec)
    # Defaults are left out of the digest: a field added to the model later, with a default,
    # must not turn every re-registration into a new version.
    content = digest(spec.model_dump(mode="json", exclude_defaults=True))
    existing = await store.by_digest(tx.session, ComponentRow, spec.name, content)
    if existing:
        return existing, False
    latest = await store.latest(tx.session, ComponentRow, spec.name)
    row = await store.add(
        tx.session,
        ComponentRow(
            name=spec.name,
            version=(latest.version if latest else 0) + 1,
            digest=content,
            type=spec.type,
            description=spec.description,
            spec=spec.model_dump(mode="json"),
            source=text,
            created_at=now(),
        ),
    )
    tx.emit(ComponentRegistered(name=row.name, version=row.version, digest=content, type=row.type))
    return row, True


async def register_pipeline(tx: Tx, text: str) -> tuple[PipelineRow, dict[str, ComponentRow], bool]:
    """Check the DAG against the registered components, pin their versions, then record."""
    spec: PipelineSpec = parse(text, PipelineSpec)
    found = {step: await _component(tx.session, s.component) for step, s in spec.steps.items()}
    problems = pipelines.check(
        spec,
        {step: ComponentSpec.model_validate(r.spec) if r else None for step, r in found.items()},
    )
    if problems:
        found_problems = [problem(text, p.loc, p.message) for p in problems]
        raise Invalid(f"pipeline {spec.name}: {'; '.join(found_problems)}", found_problems)
    components = {step: row for step, row in found.items() if row is not None}
    pins = {step: f"{row.name}@{row.version}" for step, row in components.items()}
    content = digest({"spec": spec.model_dump(mode="json", exclude_defaults=True), "pins": pins})
    existing = await store.by_digest(tx.session, PipelineRow, spec.name, content)
    if existing:
        return existing, components, False
    latest = await store.latest(tx.session, PipelineRow, spec.name)
    row = await store.add(
        tx.session,
        PipelineRow(
            name=spec.name,
            version=(latest.version if latest else 0) + 1,
            digest=content,
            description=spec.description,
            spec=spec.model_dump(mode="json"),
            components=pins,
            source=text,
            created_at=now(),
        ),
    )
    tx.emit(PipelineRegistered(name=row.name, version=row.version, digest=content, components=pins))
    return row, components, True


async def _component(session: AsyncSession, text: str) -> ComponentRow | None:
    try:
        return await component(session, text)
    except (NotFound, Invalid):
        return None


async def component(session: AsyncSession, text: str) -> ComponentRow:
    """NAME (latest) or NAME@VERSION."""
    return await _find(session, ComponentRow, text, "component")


async def pipeline(session: AsyncSession, text: str) -> tuple[PipelineRow, dict[str, ComponentRow]]:
    """NAME (latest) or NAME@VERSION, with the component versions its steps were pinned to."""
    row = await _find(session, PipelineRow, text, "pipeline")
    components = {}
    for step, pin in row.components.items():
        name, _, number = pin.rpartition("@")
        found = await store.version(session, ComponentRow, name, int(number))
        if found is None:
            raise NotFound(f"pipeline {row.name}@{row.version}: component {pin} is gone")
        components[step] = found
    return row, components


async def _find(session: AsyncSession, table: type[store.Row], text: str, what: str) -> Any:
    try:
        ref = parse_ref(text, f"{what} name")
    except RefError as err:
        raise Invalid(str(err)) from None
    if ref.alias:
        raise NotFound(f"{what} versions have numbers, not aliases: {text!r}")
    found = (
        await store.latest(session, table, ref.name)
        if ref.version is None
        else await store.version(session, table, ref.name, ref.version)
    )
    if found is None:
        which = "" if ref.version is None else f" version {ref.version}"
        raise NotFound(f"no {what} {ref.name!r}{which}")
    return found
