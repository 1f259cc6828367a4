"""What a completed run tells the registry: the versions it produced, and its lineage."""

import logging

from services.registry import datasets, models
from services.registry.domain import manifests
from services.registry.domain.lineage import Node
from services.registry.errors import Invalid
from services.registry.store import datasets as dataset_store
from services.registry.store import lineage as edges
from services.registry.store import models as model_store
from services.registry.tables import LineageRunRow
from services.registry.tx import Tx
from shared.events import InputRef, RunCompleted, RunOutput

log = logging.getLogger(__name__)


async def record(tx: Tx, run: RunCompleted) -> None:
    """The run as a lineage node between its inputs and the versions it wrote."""
    await edges.add_run(
        tx.session,
        LineageRunRow(
            run_id=run.run_id,
            component=run.component,
            pipeline=run.pipeline,
            parent_run_id=run.parent_run_id,
            at=run.at,
        ),
    )
    node = Node("run", run.run_id).key
    inputs = [key for ref in run.inputs.values() if (key := await _input_key(tx, ref))]
    await edges.add_edges(tx.session, [(key, node) for key in inputs])
    for name, output in sorted(run.outputs.items()):
        try:
            await _output(tx, run, name, output, inputs)
        except Invalid as err:
            # One unusable output must not cost the others (or the lineage) their record.
            log.warning("run %s output %s not recorded: %s", run.run_id, name, err)


async def _output(
    tx: Tx, run: RunCompleted, name: str, output: RunOutput, parents: list[str]
) -> None:
    if output.type not in ("dataset", "model") or not output.files:
        return
    if not output.name:
        raise Invalid(f"a {output.type} output needs a name to be recorded under")
    if output.type == "dataset":
        await datasets.record(
            tx,
            datasets.Draft(
                dataset=output.name,
                source="run",
                files=output.files,
                metadata=output.metadata,
                parents=parents,
                run_id=run.run_id,
            ),
        )
        return
    metadata = dict(output.metadata)
    await models.record(
        tx,
        models.Draft(
            model=output.name,
            files=output.files,
            source="run",
            format=_text(metadata.pop("format", None)),
            framework=_text(metadata.pop("framework", None)),
            metrics={**run.metrics, **output.metrics},
            metadata=metadata,
            parents=parents,
            run_id=run.run_id,
        ),
    )


async def _input_key(tx: Tx, ref: InputRef) -> str | None:
    """The lineage node an input was: a registered version, or the run whose output it read."""
    if ref.type not in ("dataset", "model"):
        return None
    if ref.version is not None:
        return Node(ref.type, ref.name, ref.version).key
    if ref.files:  # a pipeline step's output, wired in: the version recorded from it
        number = await _recorded(tx, ref)
        if number is not None:
            return Node(ref.type, ref.name, number).key
    return Node("run", ref.run_id).key if ref.run_id else None


async def _recorded(tx: Tx, ref: InputRef) -> int | None:
    digest = manifests.digest(ref.files)
    if ref.type == "model":
        model = await model_store.model(tx.session, ref.name)
        found = model and model.id and await model_store.by_digest(tx.session, model.id, digest)
        return found.version if found else None
    dataset = await dataset_store.dataset(tx.session, ref.name)
    row = dataset and dataset.id and await dataset_store.by_identity(tx.session, dataset.id, digest)
    return row.version if row else None


def _text(value: object) -> str | None:
    return str(value) if value is not None else None
