"""`boxops.Client`: the gateway's HTTP API from Python, for the CLI and for your own code.

Each method returns the gateway's answer as the pydantic view it is declared with
(`RunView`, `RunAccepted`, `RunMetrics`, `LogLine` from `shared.queries` and
`shared.run_parts`; `DatasetView`, `ModelVersionView`, … from `shared.registry_api`); a
refusal or an unreachable gateway raises `GatewayError` with the gateway's reason and its
HTTP status. `boxops.AsyncClient` (boxops/async_client.py) has the same methods, awaited:
both send the calls `boxops.gateway_calls` builds and read the answers it reads.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from boxops import gateway_calls as calls
from boxops.gateway_calls import GatewayError as GatewayError  # re-exported
from boxops.imports import without
from boxops.urls import api_path
from shared.runs import TERMINAL as TERMINAL  # re-exported: what a waiting caller stops on

if TYPE_CHECKING:
    from shared.queries import RunAccepted, RunEnded, RunMetrics, RunView
    from shared.registry_api import DatasetVersionView, DatasetView, ModelVersionView, ModelView
    from shared.run_parts import LogLine

# httpx imports its own command line (click, pygments: a tenth of `boxops runs list`'s
# start-up) whenever they are installed; without them it imports as it does where they
# are not, and this client never runs that command line.
with without("httpx._main"):
    import httpx

T = TypeVar("T")


class Client:
    def __init__(self, base_url: str, token: str = "", timeout: float = 30.0) -> None:
        self.base_url = base_url
        self.http = httpx.Client(**calls.http_options(base_url, token, timeout))

    @classmethod
    def from_env(cls, root: Path | None = None) -> Client:
        """The gateway of the stack under `root` (default `$BOXOPS_HOME`, `~/.boxops`);
        `BOXOPS_GATEWAY_URL` and `BOXOPS_API_TOKEN` win (see `gateway_calls.gateway_of`)."""
        return cls(*calls.gateway_of(root))

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Any route (`path` as `api_path` builds it); a 4xx or 5xx raises GatewayError."""
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TransportError as err:
            raise calls.unreachable(self.base_url, err) from None
        return calls.checked(response)

    def _send(self, call: calls.Call[T]) -> T:
        try:
            response = self.http.request(call.method, call.path, **call.options)
        except httpx.TransportError as err:
            raise calls.unreachable(self.base_url, err) from None
        return calls.answer(call, response)

    # --- runs ------------------------------------------------------------------------------

    def submit(self, **body: Any) -> RunAccepted:
        """Start a run: `command=[…]`, or `component=`/`pipeline=` NAME[@VERSION] with
        `params`, `inputs` (name → NAME@VERSION) and `env` (the body of POST /v1/runs)."""
        return self._send(calls.submit(body))

    def run(self, run_id: str) -> RunView | None:
        """The run, or None while the scheduler has not recorded it yet."""
        return self._send(calls.run(run_id))

    def wait(self, run_id: str, timeout: float | None = None, interval: float = 0.2) -> RunView:
        """The run once it has ended (completed, failed or aborted); TimeoutError after
        `timeout` seconds (None: no limit)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            finished = ended(self.run(run_id), run_id, deadline, timeout)
            if finished is not None:
                return finished
            time.sleep(interval)

    def runs(self, limit: int = 50, **filters: str | None) -> list[RunView]:
        """Runs, newest first; filters: state, component, pipeline, trigger, since (ISO)."""
        return self._send(calls.runs(limit, filters))

    def logs(self, run_id: str) -> list[LogLine]:
        """What the run printed so far, stdout and stderr in order."""
        return self._send(calls.logs(run_id))

    def follow_logs(self, run_id: str, on_line: Callable[[LogLine], None]) -> RunEnded:
        """Hand each of the run's lines, from its start, to `on_line` as it is printed;
        how the run ended, once it has (the gateway's server-sent log stream, taken up
        again where it was if it closes first)."""
        from shared.queries import RunEnded
        from shared.run_parts import LogLine

        last_id, pause = "", calls.FIRST_PAUSE_S
        while True:
            headers = {"Last-Event-ID": last_id} if last_id else {}
            heard = False
            for event in self._events(api_path("runs", run_id, "logs", "stream"), headers):
                heard = True
                if event.event == "end":
                    return RunEnded.model_validate_json(event.data)
                last_id = event.id or last_id
                on_line(LogLine.model_validate_json(event.data))
            # A stream closed with nothing in it: taken up again after a growing pause.
            pause = calls.FIRST_PAUSE_S if heard else min(pause * 2, calls.LAST_PAUSE_S)
            if not heard:
                time.sleep(pause)

    def _events(self, path: str, headers: dict[str, str]) -> Iterator[Any]:
        from httpx_sse import connect_sse

        try:
            with connect_sse(self.http, "GET", path, headers=headers) as source:
                if source.response.status_code >= 400:
                    source.response.read()
                    calls.checked(source.response)
                yield from source.iter_sse()
        except httpx.TransportError as err:
            raise calls.unreachable(self.base_url, err) from None

    def metrics(self, run_id: str) -> RunMetrics:
        """Each metric's summary and its points."""
        return self._send(calls.metrics(run_id))

    def abort(self, run_id: str) -> dict[str, str]:
        """Ask for the run to be stopped; {"id", "state", "abort": "requested"}."""
        return self._send(calls.abort(run_id))

    def retry(self, run_id: str) -> RunAccepted:
        """A new run of what `run_id` was asked to do, with the same inputs."""
        return self._send(calls.retry(run_id))

    def login_link(self, next: str = "/runs") -> str:
        """A one-time URL that signs a browser in to the web UI with this client's token
        (it works once, for a minute)."""
        return self._send(calls.login_link(self.base_url, next))

    # --- datasets, models, triggers --------------------------------------------------------

    def datasets(
        self, prefix: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[DatasetView]:
        """Datasets by name, each with its latest version."""
        return self._send(calls.datasets(prefix, limit, offset))

    def dataset_version(self, name: str, ref: str = "latest") -> DatasetVersionView | None:
        """A dataset's version by number or `latest`; None if there is no such version."""
        return self._send(calls.dataset_version(name, ref))

    def models(
        self, prefix: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[ModelView]:
        """Models by name, with their latest version and aliases."""
        return self._send(calls.models(prefix, limit, offset))

    def model_version(self, name: str, ref: str = "latest") -> ModelVersionView | None:
        """A model's version by number, alias (`production`) or `latest`; None if none."""
        return self._send(calls.model_version(name, ref))

    def set_alias(self, name: str, alias: str, version: int) -> ModelView:
        """Point the model's `alias` at `version`."""
        return self._send(calls.set_alias(name, alias, version))

    def triggers(self) -> list[dict[str, Any]]:
        """Every trigger, as the trigger service shows it."""
        return self._send(calls.triggers())

    def trigger(self, name: str) -> dict[str, Any] | None:
        """One trigger with its spec and state; None if there is none of that name."""
        return self._send(calls.trigger(name))

    def fire(self, name: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Fire a trigger by hand; `params` override the trigger's."""
        return self._send(calls.fire(name, params))


def ended(
    run: RunView | None, run_id: str, deadline: float | None, timeout: float | None
) -> RunView | None:
    """The run if it has ended; None while it runs; TimeoutError once `deadline` passed."""
    if run is not None and run.state in TERMINAL:
        return run
    if deadline is not None and time.monotonic() > deadline:
        raise TimeoutError(f"run {run_id} did not end within {timeout} s")
    return None
