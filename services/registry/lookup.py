"""Finding what a reference names: NAME (latest), NAME@VERSION, NAME@ALIAS."""

from sqlmodel.ext.asyncio.session import AsyncSession

from services.registry.domain.lineage import Node
from services.registry.domain.refs import Ref, RefError, parse_ref
from services.registry.errors import Invalid, NotFound
from services.registry.store import datasets, models
from services.registry.tables import DatasetRow, DatasetVersionRow, ModelRow, ModelVersionRow


def ref(text: str, what: str) -> Ref:
    try:
        return parse_ref(text, what)
    except RefError as err:
        raise Invalid(str(err)) from None


async def dataset_version(session: AsyncSession, text: str) -> tuple[DatasetRow, DatasetVersionRow]:
    """NAME (latest), NAME@VERSION or NAME@latest → the dataset and its version; the latest
    is the newest whose data is known (a version still pinning or failed is not used)."""
    wanted = ref(text, "dataset name")
    dataset = await datasets.dataset(session, wanted.name)
    if dataset is None or dataset.id is None:
        raise NotFound(f"no dataset {wanted.name!r}")
    if wanted.alias:
        raise NotFound(f"dataset versions have numbers, not aliases: {text!r}")
    found = (
        await datasets.latest_pinned(session, dataset.id)
        if wanted.version is None
        else await datasets.version(session, dataset.id, wanted.version)
    )
    if found is None:
        which = (
            "no pinned version yet" if wanted.version is None else f"no version {wanted.version}"
        )
        raise NotFound(f"dataset {wanted.name!r} has {which}")
    return dataset, found


async def model_version(session: AsyncSession, text: str) -> tuple[ModelRow, ModelVersionRow]:
    """NAME (latest), NAME@VERSION, NAME@latest or NAME@ALIAS → the model and its version."""
    wanted = ref(text, "model name")
    model = await models.model(session, wanted.name)
    if model is None or model.id is None:
        raise NotFound(f"no model {wanted.name!r}")
    number = wanted.version
    if wanted.alias:
        alias = await models.alias(session, model.id, wanted.alias)
        if alias is None:
            raise NotFound(f"model {wanted.name!r} has no alias {wanted.alias!r}")
        number = alias.version
    found = (
        await models.latest(session, model.id)
        if number is None
        else await models.version(session, model.id, number)
    )
    if found is None:
        which = "no versions yet" if number is None else f"no version {number}"
        raise NotFound(f"model {wanted.name!r} has {which}")
    return model, found


async def parent_keys(session: AsyncSession, refs: list[str]) -> list[str]:
    """Parents given as NAME[@VERSION] (a dataset) or model:NAME[@REF] → lineage keys."""
    keys = []
    for text in refs:
        if text.startswith("model:"):
            model, version = await model_version(session, text.removeprefix("model:"))
            keys.append(Node("model", model.name, version.version).key)
        else:
            dataset, row = await dataset_version(session, text.removeprefix("dataset:"))
            keys.append(Node("dataset", dataset.name, row.version).key)
    return keys
