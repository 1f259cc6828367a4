from pydantic import Field

from shared.settings import BoxopsSettings


class GatewaySettings(BoxopsSettings):
    host: str = Field("127.0.0.1", description="Address the HTTP server binds.")
    port: int = Field(8765, ge=0, le=65535, description="HTTP port.")
    api_token: str = Field("", description="Bearer token required on /v1; empty disables auth.")
    query_timeout_s: float = Field(5.0, gt=0, description="How long to wait for a service reply.")
    intake_wait_s: float = Field(
        2.0,
        ge=0,
        description="How long POST /v1/runs waits for the scheduler to accept or refuse a run "
        "(then it answers 202, pending); 0 answers at once.",
    )
    run_token_secret: str = Field("", description="Checks the run-scoped tokens of the SDK.")
