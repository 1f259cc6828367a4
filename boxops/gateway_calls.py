"""The gateway's API as calls to make, apart from making them: each `Call` is a request
(method, path, options) and how its JSON answer becomes a typed view. `boxops.Client` sends
them with httpx.Client, `boxops.AsyncClient` with httpx.AsyncClient; neither holds any
other knowledge of a route.

The views are imported when a call is built: their pydantic models are a tenth of a second
that `boxops runs list`, which reads plain JSON, does not pay.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from boxops.home import api_token, home, read_state
from boxops.urls import api_path

# A followed stream that closes with nothing in it is taken up again after a pause that
# grows from the first to the last (a gateway that keeps closing it is not hammered).
FIRST_PAUSE_S = 0.1
LAST_PAUSE_S = 2.0

if TYPE_CHECKING:
    import httpx

    from shared.queries import RunAccepted, RunMetrics, RunView
    from shared.registry_api import (
        DatasetVersionView,
        DatasetView,
        ModelVersionView,
        ModelView,
    )
    from shared.run_parts import LogLine

T = TypeVar("T")


class GatewayError(Exception):
    """The gateway could not be reached (`status` None) or refused the request (`status`
    its HTTP status); the text is the reason, as the gateway gave it."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and the reading of its answer; `absent` answers a 404 with None."""

    method: str
    path: str
    read: Callable[[Any], T]
    options: dict[str, Any] = field(default_factory=dict)
    absent: bool = False


def gateway_of(root: Path | None) -> tuple[str, str]:
    """(URL, token) of the gateway of the stack under `root` (default `$BOXOPS_HOME`,
    `~/.boxops`). Each environment variable wins over what the stack left under `root`:
    `BOXOPS_GATEWAY_URL` over its gateway URL, `BOXOPS_API_TOKEN` (even empty) over its
    token file. The token file is only ever sent to that stack's own gateway: with
    `BOXOPS_GATEWAY_URL` and no `BOXOPS_API_TOKEN` no token is sent."""
    root = root or home()
    url, token = os.environ.get("BOXOPS_GATEWAY_URL"), os.environ.get("BOXOPS_API_TOKEN")
    if url:
        return url.rstrip("/"), token or ""
    state = read_state(root)
    if state is None:
        raise GatewayError(f"boxops is not running under {root}: start it with `boxops up`")
    return state.gateway_url, api_token(root) if token is None else token


def http_options(base_url: str, token: str, timeout: float) -> dict[str, Any]:
    """What either httpx client is built with."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    # Requests go to base_url alone, so over http:// the TLS settings are never used (a
    # proxy's own TLS is checked apart): loading the CA certificates, a twentieth of each
    # command's start-up, is left to an https:// gateway.
    verify = httpx.URL(base_url).scheme != "http"
    return {"base_url": base_url, "headers": headers, "timeout": timeout, "verify": verify}


def answer(call: Call[T], response: httpx.Response) -> T:
    """The call's reading of the response; a refusal raises GatewayError with the reason."""
    if call.absent and response.status_code == 404:
        return call.read(None)
    checked(response)
    return call.read(response.json())


def checked(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 400:
        raise GatewayError(detail(response), response.status_code)
    return response


def unreachable(base_url: str, err: Exception) -> GatewayError:
    return GatewayError(f"cannot reach the gateway at {base_url}: {err}")


def detail(response: httpx.Response) -> str:
    """The gateway's reason on one line: its message, or each invalid field with why."""
    try:
        found = response.json().get("detail", response.text)
    except ValueError:
        return response.text or response.reason_phrase
    if isinstance(found, dict) and "error" in found:  # a spec refused, its problems inside
        return str(found["error"])
    if isinstance(found, list):  # FastAPI's validation errors: name each field
        return "; ".join(
            f"{'.'.join(str(p) for p in d.get('loc', [])[1:])}: {d.get('msg')}" for d in found
        )
    return str(found)


def _one(view: Callable[[Any], T]) -> Callable[[Any], T | None]:
    return lambda data: None if data is None else view(data)


def _items(view: Callable[[Any], T]) -> Callable[[Any], list[T]]:
    """A page's items (`{"items": […], "total": …}`) or a plain list, each as `view`."""
    return lambda data: [view(item) for item in (data["items"] if isinstance(data, dict) else data)]


def _given(**params: Any) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


# --- runs ----------------------------------------------------------------------------------


def submit(body: dict[str, Any]) -> Call[RunAccepted]:
    from shared.queries import RunAccepted

    return Call("POST", api_path("runs"), RunAccepted.model_validate, {"json": body})


def run(run_id: str) -> Call[RunView | None]:
    from shared.queries import RunView

    return Call("GET", api_path("runs", run_id), _one(RunView.model_validate), absent=True)


def runs(limit: int, filters: dict[str, str | None]) -> Call[list[RunView]]:
    from shared.queries import RunView

    params = {"limit": limit} | {k: v for k, v in filters.items() if v}
    return Call("GET", api_path("runs"), _items(RunView.model_validate), {"params": params})


def logs(run_id: str) -> Call[list[LogLine]]:
    from shared.queries import RunLogs

    return Call("GET", api_path("runs", run_id, "logs"), lambda d: RunLogs.model_validate(d).lines)


def metrics(run_id: str) -> Call[RunMetrics]:
    from shared.queries import RunMetrics

    return Call("GET", api_path("runs", run_id, "metrics"), RunMetrics.model_validate)


def abort(run_id: str) -> Call[dict[str, str]]:
    return Call("POST", api_path("runs", run_id, "abort"), dict)


def retry(run_id: str) -> Call[RunAccepted]:
    from shared.queries import RunAccepted

    return Call("POST", api_path("runs", run_id, "retry"), RunAccepted.model_validate)


def login_link(base_url: str, next: str) -> Call[str]:
    path = api_path("ui", "login-links")
    return Call("POST", path, lambda d: f"{base_url}{d['path']}", {"json": {"next": next}})


# --- datasets and models -------------------------------------------------------------------


def datasets(prefix: str | None, limit: int, offset: int) -> Call[list[DatasetView]]:
    from shared.registry_api import DatasetView

    params = _given(prefix=prefix, limit=limit, offset=offset)
    return Call("GET", api_path("datasets"), _items(DatasetView.model_validate), {"params": params})


def dataset_version(name: str, ref: str) -> Call[DatasetVersionView | None]:
    from shared.registry_api import DatasetVersionView

    path = api_path("datasets", name, "versions", ref)
    return Call("GET", path, _one(DatasetVersionView.model_validate), absent=True)


def models(prefix: str | None, limit: int, offset: int) -> Call[list[ModelView]]:
    from shared.registry_api import ModelView

    params = _given(prefix=prefix, limit=limit, offset=offset)
    return Call("GET", api_path("models"), _items(ModelView.model_validate), {"params": params})


def model_version(name: str, ref: str) -> Call[ModelVersionView | None]:
    from shared.registry_api import ModelVersionView

    path = api_path("models", name, "versions", ref)
    return Call("GET", path, _one(ModelVersionView.model_validate), absent=True)


def set_alias(name: str, alias: str, version: int) -> Call[ModelView]:
    from shared.registry_api import ModelView

    path = api_path("models", name, "aliases", alias)
    return Call("PUT", path, ModelView.model_validate, {"json": {"version": version}})


# --- triggers ------------------------------------------------------------------------------


def triggers() -> Call[list[dict[str, Any]]]:
    return Call("GET", api_path("triggers"), _items(dict))


def trigger(name: str) -> Call[dict[str, Any] | None]:
    return Call("GET", api_path("triggers", name), _one(dict), absent=True)


def fire(name: str, params: dict[str, Any] | None) -> Call[dict[str, Any]]:
    return Call("POST", api_path("triggers", name, "fire"), dict, {"json": params or {}})
