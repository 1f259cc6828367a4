"""Sweeps: YAML specs of hyper-parameter searches, registered as immutable numbered
versions pinned to the component or pipeline version their trials run."""

from typing import Any, cast

from sqlmodel.ext.asyncio.session import AsyncSession

from services.registry import specs
from services.registry.errors import Invalid, NotFound
from services.registry.store import specs as store
from services.registry.tables import SweepRow
from services.registry.tx import Tx
from shared.bus import now
from shared.events import SweepRegistered
from shared.specs import SpecError, load, problem
from shared.sweep_specs import SweepSpec


def parse(text: str) -> SweepSpec:
    try:
        return cast(SweepSpec, load(text, {"sweep": SweepSpec}))
    except SpecError as err:
        raise Invalid(f"invalid sweep spec: {err}", err.problems) from None


async def register(tx: Tx, text: str) -> tuple[SweepRow, bool]:
    """Check the params against the target's, pin its version, then record: the existing
    version when the spec and the pin say the same thing."""
    spec = parse(text)
    kind, target, declared = await _target(tx.session, spec, text)
    unknown = [name for name in [*spec.space, *spec.target.params] if name not in declared]
    if unknown:
        where = ("space", unknown[0]) if unknown[0] in spec.space else ("target", "params")
        known = ", ".join(declared) or "none"
        found = [
            problem(
                text,
                where,
                f"{unknown[0]!r} is not a param of {kind} {target} (its params: {known})",
            )
        ]
        raise Invalid(f"sweep {spec.name}: {found[0]}", found)
    content = specs.digest(
        {"spec": spec.model_dump(mode="json", exclude_defaults=True), "target": target}
    )
    existing = await store.by_digest(tx.session, SweepRow, spec.name, content)
    if existing:
        return existing, False
    latest = await store.latest(tx.session, SweepRow, spec.name)
    row = await store.add(
        tx.session,
        SweepRow(
            name=spec.name,
            version=(latest.version if latest else 0) + 1,
            digest=content,
            description=spec.description,
            spec=spec.model_dump(mode="json"),
            target=target,
            source=text,
            created_at=now(),
        ),
    )
    tx.emit(SweepRegistered(name=row.name, version=row.version, digest=content, target=target))
    return row, True


async def sweep(session: AsyncSession, text: str) -> SweepRow:
    """NAME (latest) or NAME@VERSION."""
    found: SweepRow = await specs.find(session, SweepRow, text, "sweep")
    return found


async def _target(
    session: AsyncSession, spec: SweepSpec, text: str
) -> tuple[str, str, dict[str, Any]]:
    """(kind, NAME@VERSION, its declared params) of the target; refused when unknown."""
    kind = "component" if spec.target.component else "pipeline"
    try:
        if spec.target.component:
            row: Any = await specs.component(session, spec.target.component)
        else:
            row, _ = await specs.pipeline(session, spec.target.ref)
    except (Invalid, NotFound) as err:
        found = [problem(text, ("target", kind), str(err))]
        raise Invalid(f"sweep {spec.name}: {found[0]}", found) from None
    return kind, f"{row.name}@{row.version}", dict(row.spec.get("params", {}))
