"""`boxops.Client`: the gateway's HTTP API from Python, for the CLI and for your own code.

Each method returns the gateway's answer as the pydantic view it is declared with
(`RunView`, `RunAccepted`, `RunMetrics`, `LogLine`, from `shared.queries` and
`shared.run_parts`); a refusal or an unreachable gateway raises `GatewayError` with the
gateway's reason and its HTTP status.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from boxops.home import api_token, home, read_state
from boxops.imports import without
from boxops.urls import api_path
from shared.runs import TERMINAL as TERMINAL  # re-exported: what a waiting caller stops on

# The views are imported by the methods that return them: building their pydantic models
# is a tenth of a second that `boxops runs list`, which reads plain JSON, does not pay.
if TYPE_CHECKING:
    from shared.queries import RunAccepted, RunEnded, RunMetrics, RunView
    from shared.run_parts import LogLine

# httpx imports its own command line (click, pygments: a tenth of `boxops runs list`'s
# start-up) whenever they are installed; without them it imports as it does where they
# are not, and this client never runs that command line.
with without("httpx._main"):
    import httpx


class GatewayError(Exception):
    """The gateway could not be reached (`status` None) or refused the request (`status`
    its HTTP status); the text is the reason, as the gateway gave it."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Client:
    def __init__(self, base_url: str, token: str = "", timeout: float = 30.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url
        # Requests go to base_url alone, so over http:// the TLS settings are never used (a
        # proxy's own TLS is checked apart): loading the CA certificates, a twentieth of
        # each command's start-up, is left to an https:// gateway.
        verify = httpx.URL(base_url).scheme != "http"
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout, verify=verify)

    @classmethod
    def from_env(cls, root: Path | None = None) -> Client:
        """The gateway of the stack under `root` (default `$BOXOPS_HOME`, `~/.boxops`).

        Each environment variable wins over what the stack left under `root`:
        `BOXOPS_GATEWAY_URL` over its gateway URL, `BOXOPS_API_TOKEN` (even empty) over its
        token file. The token file is only ever sent to that stack's own gateway: with
        `BOXOPS_GATEWAY_URL` and no `BOXOPS_API_TOKEN` no token is sent."""
        root = root or home()
        url, token = os.environ.get("BOXOPS_GATEWAY_URL"), os.environ.get("BOXOPS_API_TOKEN")
        if url:
            return cls(url.rstrip("/"), token or "")
        state = read_state(root)
        if state is None:
            raise GatewayError(f"boxops is not running under {root}: start it with `boxops up`")
        return cls(state.gateway_url, api_token(root) if token is None else token)

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
            raise GatewayError(f"cannot reach the gateway at {self.base_url}: {err}") from None
        if response.status_code >= 400:
            raise GatewayError(_detail(response), response.status_code)
        return response

    def submit(self, **body: Any) -> RunAccepted:
        """Start a run: `command=[…]`, or `component=`/`pipeline=` NAME[@VERSION] with
        `params`, `inputs` (name → NAME@VERSION) and `env` (the body of POST /v1/runs)."""
        from shared.queries import RunAccepted

        return RunAccepted.model_validate(self._json("POST", "runs", json=body))

    def run(self, run_id: str) -> RunView | None:
        """The run, or None while the scheduler has not recorded it yet."""
        from shared.queries import RunView

        try:
            return RunView.model_validate(self._json("GET", "runs", run_id))
        except GatewayError as err:
            if err.status == 404:
                return None
            raise

    def wait(self, run_id: str, timeout: float | None = None, interval: float = 0.2) -> RunView:
        """The run once it has ended (completed, failed or aborted); TimeoutError after
        `timeout` seconds (None: no limit)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            run = self.run(run_id)
            if run is not None and run.state in TERMINAL:
                return run
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} did not end within {timeout} s")
            time.sleep(interval)

    def runs(self, limit: int = 50, **filters: str | None) -> list[RunView]:
        """Runs, newest first; filters: state, component, pipeline, trigger, since (ISO)."""
        from shared.queries import RunView

        params = {"limit": limit} | {k: v for k, v in filters.items() if v}
        return [RunView.model_validate(r) for r in self._json("GET", "runs", params=params)]

    def logs(self, run_id: str) -> list[LogLine]:
        """What the run printed so far, stdout and stderr in order."""
        from shared.queries import RunLogs

        return RunLogs.model_validate(self._json("GET", "runs", run_id, "logs")).lines

    def follow_logs(self, run_id: str, on_line: Callable[[LogLine], None]) -> RunEnded:
        """Hand each of the run's lines, from its start, to `on_line` as it is printed;
        how the run ended, once it has (the gateway's server-sent log stream, taken up
        again where it was if it closes first)."""
        from shared.queries import RunEnded
        from shared.run_parts import LogLine

        last_id = ""
        while True:
            headers = {"Last-Event-ID": last_id} if last_id else {}
            for event in self._events(api_path("runs", run_id, "logs", "stream"), headers):
                if event.event == "end":
                    return RunEnded.model_validate_json(event.data)
                last_id = event.id or last_id
                on_line(LogLine.model_validate_json(event.data))

    def _events(self, path: str, headers: dict[str, str]) -> Iterator[Any]:
        from httpx_sse import connect_sse

        try:
            with connect_sse(self.http, "GET", path, headers=headers) as source:
                if source.response.status_code >= 400:
                    source.response.read()
                    raise GatewayError(_detail(source.response), source.response.status_code)
                yield from source.iter_sse()
        except httpx.TransportError as err:
            raise GatewayError(f"cannot reach the gateway at {self.base_url}: {err}") from None

    def metrics(self, run_id: str) -> RunMetrics:
        """Each metric's summary and its points."""
        from shared.queries import RunMetrics

        return RunMetrics.model_validate(self._json("GET", "runs", run_id, "metrics"))

    def abort(self, run_id: str) -> dict[str, str]:
        """Ask for the run to be stopped; {"id", "state", "abort": "requested"}."""
        return self._json("POST", "runs", run_id, "abort")

    def retry(self, run_id: str) -> RunAccepted:
        """A new run of what `run_id` was asked to do, with the same inputs."""
        from shared.queries import RunAccepted

        return RunAccepted.model_validate(self._json("POST", "runs", run_id, "retry"))

    def login_link(self, next: str = "/runs") -> str:
        """A one-time URL that signs a browser in to the web UI with this client's token
        (it works once, for a minute)."""
        answer = self._json("POST", "ui", "login-links", json={"next": next})
        return f"{self.base_url}{answer['path']}"

    def _json(self, method: str, *segments: str, **kwargs: Any) -> Any:
        return self.request(method, api_path(*segments), **kwargs).json()


def _detail(response: httpx.Response) -> str:
    """The gateway's reason on one line: its message, or each invalid field with why."""
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        return response.text or response.reason_phrase
    if isinstance(detail, dict) and "error" in detail:  # a spec refused, its problems inside
        return str(detail["error"])
    if isinstance(detail, list):  # FastAPI's validation errors: name each field
        return "; ".join(
            f"{'.'.join(str(p) for p in d.get('loc', [])[1:])}: {d.get('msg')}" for d in detail
        )
    return str(detail)
