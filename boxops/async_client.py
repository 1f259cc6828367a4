"""`boxops.AsyncClient`: `boxops.Client`'s methods, awaited, on httpx.AsyncClient.

    async with boxops.AsyncClient.from_env() as gateway:
        accepted = await gateway.submit(pipeline="iris_tree", inputs={"data": "iris@1"})
        run = await gateway.wait(accepted.id, timeout=300)

Every request and the reading of its answer come from `boxops.gateway_calls`, as for the
sync client: a method here only sends.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from boxops import gateway_calls as calls
from boxops.client import ended
from boxops.urls import api_path

if TYPE_CHECKING:
    from shared.queries import RunAccepted, RunEnded, RunMetrics, RunView
    from shared.registry_api import DatasetVersionView, DatasetView, ModelVersionView, ModelView
    from shared.run_parts import LogLine

T = TypeVar("T")


class AsyncClient:
    def __init__(self, base_url: str, token: str = "", timeout: float = 30.0) -> None:
        self.base_url = base_url
        self.http = httpx.AsyncClient(**calls.http_options(base_url, token, timeout))

    @classmethod
    def from_env(cls, root: Path | None = None) -> AsyncClient:
        """As `Client.from_env`: the stack under `root`, or BOXOPS_GATEWAY_URL."""
        return cls(*calls.gateway_of(root))

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Any route (`path` as `api_path` builds it); a 4xx or 5xx raises GatewayError."""
        try:
            response = await self.http.request(method, path, **kwargs)
        except httpx.TransportError as err:
            raise calls.unreachable(self.base_url, err) from None
        return calls.checked(response)

    async def _send(self, call: calls.Call[T]) -> T:
        try:
            response = await self.http.request(call.method, call.path, **call.options)
        except httpx.TransportError as err:
            raise calls.unreachable(self.base_url, err) from None
        return calls.answer(call, response)

    # --- runs ------------------------------------------------------------------------------

    async def submit(self, **body: Any) -> RunAccepted:
        """Start a run (see `Client.submit`)."""
        return await self._send(calls.submit(body))

    async def run(self, run_id: str) -> RunView | None:
        """The run, or None while the scheduler has not recorded it yet."""
        return await self._send(calls.run(run_id))

    async def wait(
        self, run_id: str, timeout: float | None = None, interval: float = 0.2
    ) -> RunView:
        """The run once it has ended; TimeoutError after `timeout` seconds (None: no limit)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            finished = ended(await self.run(run_id), run_id, deadline, timeout)
            if finished is not None:
                return finished
            await asyncio.sleep(interval)

    async def runs(self, limit: int = 50, **filters: str | None) -> list[RunView]:
        """Runs, newest first; filters: state, component, pipeline, trigger, since (ISO)."""
        return await self._send(calls.runs(limit, filters))

    async def logs(self, run_id: str) -> list[LogLine]:
        """What the run printed so far, stdout and stderr in order."""
        return await self._send(calls.logs(run_id))

    async def follow_logs(self, run_id: str, on_line: Callable[[LogLine], None]) -> RunEnded:
        """Hand each of the run's lines to `on_line` as it is printed; how the run ended."""
        from httpx_sse import aconnect_sse

        from shared.queries import RunEnded
        from shared.run_parts import LogLine

        last_id, path = "", api_path("runs", run_id, "logs", "stream")
        pause = calls.FIRST_PAUSE_S
        while True:
            headers = {"Last-Event-ID": last_id} if last_id else {}
            heard = False
            try:
                async with aconnect_sse(self.http, "GET", path, headers=headers) as source:
                    if source.response.status_code >= 400:
                        await source.response.aread()
                        calls.checked(source.response)
                    async for event in source.aiter_sse():
                        heard = True
                        if event.event == "end":
                            return RunEnded.model_validate_json(event.data)
                        last_id = event.id or last_id
                        on_line(LogLine.model_validate_json(event.data))
            except httpx.TransportError as err:
                raise calls.unreachable(self.base_url, err) from None
            # A stream closed with nothing in it: taken up again after a growing pause.
            pause = calls.FIRST_PAUSE_S if heard else min(pause * 2, calls.LAST_PAUSE_S)
            if not heard:
                await asyncio.sleep(pause)

    async def metrics(self, run_id: str) -> RunMetrics:
        """Each metric's summary and its points."""
        return await self._send(calls.metrics(run_id))

    async def abort(self, run_id: str) -> dict[str, str]:
        """Ask for the run to be stopped; {"id", "state", "abort": "requested"}."""
        return await self._send(calls.abort(run_id))

    async def retry(self, run_id: str) -> RunAccepted:
        """A new run of what `run_id` was asked to do, with the same inputs."""
        return await self._send(calls.retry(run_id))

    async def login_link(self, next: str = "/runs") -> str:
        """A one-time URL that signs a browser in to the web UI with this client's token."""
        return await self._send(calls.login_link(self.base_url, next))

    # --- datasets, models, triggers --------------------------------------------------------

    async def datasets(
        self, prefix: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[DatasetView]:
        """Datasets by name, each with its latest version."""
        return await self._send(calls.datasets(prefix, limit, offset))

    async def dataset_version(self, name: str, ref: str = "latest") -> DatasetVersionView | None:
        """A dataset's version by number or `latest`; None if there is no such version."""
        return await self._send(calls.dataset_version(name, ref))

    async def models(
        self, prefix: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[ModelView]:
        """Models by name, with their latest version and aliases."""
        return await self._send(calls.models(prefix, limit, offset))

    async def model_version(self, name: str, ref: str = "latest") -> ModelVersionView | None:
        """A model's version by number, alias (`production`) or `latest`; None if none."""
        return await self._send(calls.model_version(name, ref))

    async def set_alias(self, name: str, alias: str, version: int) -> ModelView:
        """Point the model's `alias` at `version`."""
        return await self._send(calls.set_alias(name, alias, version))

    async def triggers(self) -> list[dict[str, Any]]:
        """Every trigger, as the trigger service shows it."""
        return await self._send(calls.triggers())

    async def trigger(self, name: str) -> dict[str, Any] | None:
        """One trigger with its spec and state; None if there is none of that name."""
        return await self._send(calls.trigger(name))

    async def fire(self, name: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Fire a trigger by hand; `params` override the trigger's."""
        return await self._send(calls.fire(name, params))
