"""A small HTTP client of the gateway, for the CLI and the SDK."""

import os
from pathlib import Path
from typing import Any

from boxops.home import api_token, read_state
from boxops.imports import without
from shared.runs import TERMINAL as TERMINAL  # re-exported: what a waiting caller stops on

# httpx imports its own command line (click, pygments: a tenth of `boxops runs list`'s
# start-up) whenever they are installed; without them it imports as it does where they
# are not, and this client never runs that command line.
with without("httpx._main"):
    import httpx


class GatewayError(Exception):
    """The gateway could not be reached or refused the request; the text says why."""


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
    def from_env(cls, root: Path) -> "Client":
        """BOXOPS_GATEWAY_URL (+ BOXOPS_API_TOKEN), else the stack running under root."""
        url = os.environ.get("BOXOPS_GATEWAY_URL")
        if url:
            return cls(url.rstrip("/"), os.environ.get("BOXOPS_API_TOKEN", ""))
        state = read_state(root)
        if state is None:
            raise GatewayError(f"boxops is not running under {root}: start it with `boxops up`")
        return cls(state.gateway_url, api_token(root))

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TransportError as err:
            raise GatewayError(f"cannot reach the gateway at {self.base_url}: {err}") from None
        if response.status_code >= 400:
            raise GatewayError(f"{response.status_code}: {_detail(response)}")
        return response

    def submit(self, **body: Any) -> dict[str, Any]:
        """POST /v1/runs with command=[…] or component=…/pipeline=… (+ params, inputs…)."""
        return self.request("POST", "/v1/runs", json=body).json()

    def abort(self, run_id: str) -> dict[str, Any]:
        return self.request("POST", f"/v1/runs/{run_id}/abort").json()

    def retry(self, run_id: str) -> dict[str, Any]:
        return self.request("POST", f"/v1/runs/{run_id}/retry").json()

    def metrics(self, run_id: str) -> dict[str, Any]:
        return self.request("GET", f"/v1/runs/{run_id}/metrics").json()

    def run(self, run_id: str) -> dict[str, Any] | None:
        """The run, or None while the scheduler has not recorded it yet."""
        try:
            return self.request("GET", f"/v1/runs/{run_id}").json()
        except GatewayError as err:
            if str(err).startswith("404"):
                return None
            raise

    def runs(self, limit: int = 50, **filters: str | None) -> list[dict[str, Any]]:
        params = {"limit": limit} | {k: v for k, v in filters.items() if v}
        return self.request("GET", "/v1/runs", params=params).json()

    def logs(self, run_id: str) -> list[dict[str, Any]]:
        lines = self.request("GET", f"/v1/runs/{run_id}/logs").json()["lines"]
        return lines


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        return response.text
    if isinstance(detail, list):  # FastAPI's validation errors: name each field
        return "; ".join(
            f"{'.'.join(str(p) for p in d.get('loc', [])[1:])}: {d.get('msg')}" for d in detail
        )
    return str(detail)
