import ipaddress
from pathlib import Path

from pydantic import Field, model_validator

from shared.settings import BoxopsSettings


class GatewaySettings(BoxopsSettings):
    host: str = Field("127.0.0.1", description="Address the HTTP server binds.")
    port: int = Field(8765, ge=0, le=65535, description="HTTP port.")
    api_token: str = Field(
        "",
        description="The gateway's own bearer token (scope admin). Empty: no authentication, "
        "allowed only on a loopback address.",
    )
    query_timeout_s: float = Field(5.0, gt=0, description="How long to wait for a service reply.")
    intake_wait_s: float = Field(
        2.0,
        ge=0,
        description="How long POST /v1/runs waits for the scheduler to accept or refuse a run "
        "(then it answers 202, pending); 0 answers at once.",
    )
    stream_max_s: float = Field(
        600.0,
        gt=0,
        description="How long a server-sent event stream lasts at most; its client reconnects "
        "with Last-Event-ID and goes on.",
    )
    run_token_secret: str = Field("", description="Checks the run-scoped tokens of the SDK.")
    sdk_socket: Path | None = Field(
        None,
        description="Also serve HTTP on this Unix socket (0600): sandboxed local runs have no "
        "network, and their SDK reaches the gateway through it.",
    )

    hook_rate_per_minute: float = Field(
        120.0, gt=0, description="Calls a minute each hook takes, on average (then 429)."
    )
    hook_burst: int = Field(60, ge=1, description="Calls each hook takes at once, at most.")
    hook_replay_window_s: float = Field(
        300.0,
        gt=0,
        description="A generic hook's delivery must be sent (X-Hook-Timestamp) this close to "
        "now, and its id and signature are refused again for this long.",
    )
    alert_memory_s: float = Field(
        7 * 24 * 3600.0,
        gt=0,
        description="How long an alert hook remembers the alerts it published: the same "
        "alert (fingerprint, start, status) sent again meanwhile publishes nothing.",
    )

    @model_validator(mode="after")
    def _no_open_gateway_beyond_loopback(self) -> "GatewaySettings":
        if not self.api_token and not loopback(self.host):
            raise ValueError(
                f"BOXOPS_API_TOKEN is empty and BOXOPS_HOST is {self.host}: anyone on the "
                "network could do anything; set a token, or listen on 127.0.0.1"
            )
        return self


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything
