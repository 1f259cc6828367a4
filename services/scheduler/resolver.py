"""Looking things up in the registry over NATS request/reply."""

import re
from collections import OrderedDict
from typing import TypeVar

from faststream.nats import NatsBroker
from nats.errors import NoRespondersError
from pydantic import BaseModel, ValidationError

from services.scheduler.plan import PlanError
from shared.events import FileEntry, InputRef
from shared.queries import (
    COMPONENT_GET,
    DATASET_VERSION_GET,
    MODEL_VERSION_GET,
    PIPELINE_GET,
    RefQuery,
    Reply,
)
from shared.registry_api import ComponentView, DatasetVersionView, ModelVersionView, PipelineView

BLOB = re.compile(r"^(sha256:)?([0-9a-f]{64})$")
PINNED = re.compile(r"^[^@]+@\d+$")  # NAME@VERSION: a version never changes once registered
CACHED = 1024
View = TypeVar("View", bound=BaseModel)


class RegistryUnavailable(Exception):
    """No answer from the registry: worth retrying later, not a reason to fail the run."""


class Missing(PlanError):
    """The registry has nothing by that name (or version)."""


class Registry:
    def __init__(self, broker: NatsBroker, timeout_s: float = 5.0) -> None:
        self.broker = broker
        self.timeout_s = timeout_s
        # Component and pipeline versions are immutable: a run of a pinned version needs no
        # round trip to the registry after the first.
        self.versions: OrderedDict[tuple[str, str], BaseModel] = OrderedDict()

    async def _version(self, subject: str, ref: str, what: str, view: type[View]) -> View:
        key = (subject, ref)
        if key in self.versions:
            self.versions.move_to_end(key)
            kept = self.versions[key]
            assert isinstance(kept, view)  # one subject, one view  # noqa: S101
            return kept.model_copy(deep=True)  # each run gets its own to keep
        found = await self._ask(subject, ref, what, view)
        if PINNED.match(ref):
            self.versions[key] = found.model_copy(deep=True)
            if len(self.versions) > CACHED:
                self.versions.popitem(last=False)
        return found

    async def _ask(self, subject: str, ref: str, what: str, view: type[View]) -> View:
        """The registry's answer, parsed here once; a refusal is the reason to refuse the run."""
        try:
            message = await self.broker.request(RefQuery(ref=ref), subject, timeout=self.timeout_s)
        except (TimeoutError, NoRespondersError) as err:
            raise RegistryUnavailable(f"registry did not answer for {what} {ref!r}") from err
        reply = Reply.model_validate(await message.decode())
        if not reply.ok:
            refusal = Missing if reply.status == 404 else PlanError
            raise refusal(f"unknown {what} {ref!r}: {reply.error}")
        try:
            return view.model_validate(reply.result)
        except ValidationError:
            raise PlanError(f"the registry's answer for {what} {ref!r} is not understood") from None

    async def component(self, ref: str) -> ComponentView:
        return await self._version(COMPONENT_GET, ref, "component", ComponentView)

    async def pipeline(self, ref: str) -> PipelineView:
        return await self._version(PIPELINE_GET, ref, "pipeline", PipelineView)

    async def input(self, kind: str, ref: str) -> InputRef:
        """Resolve `NAME[@VERSION]`, `NAME@ALIAS` or a blob id to exactly what will be read."""
        if kind == "file":
            return _blob(ref)
        if kind == "model":
            model = await self._ask(MODEL_VERSION_GET, ref, "model version", ModelVersionView)
            return InputRef(
                type="model",
                name=model.model,
                version=model.version,
                digest=model.digest,
                files=model.files,
            )
        dataset = await self._ask(DATASET_VERSION_GET, ref, "dataset version", DatasetVersionView)
        if dataset.state != "pinned":  # its data was refused, or is not hashed yet
            why = f": {dataset.state_reason}" if dataset.state_reason else ""
            raise PlanError(f"dataset {dataset.dataset}@{dataset.version} is {dataset.state}{why}")
        return InputRef(
            type="dataset",
            name=dataset.dataset,
            version=dataset.version,
            uri=dataset.uri,
            digest=dataset.digest,
            files=dataset.files,
        )


def _blob(ref: str) -> InputRef:
    match = BLOB.match(ref)
    if not match:
        raise PlanError(f"a file input is a blob id (sha256:<64 hex>), got {ref!r}")
    digest = match.group(2)
    return InputRef(
        type="file",
        name=digest,
        digest=f"sha256:{digest}",
        files=[FileEntry(path=digest, size=0, sha256=digest)],
    )
