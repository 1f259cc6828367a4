"""One settings class for every process, read from `BOXOPS_*` environment variables."""

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.credentials import nats_login
from shared.home import DEFAULT_HOME, absolute
from shared.nats_servers import seeds

# JetStream drops a message whose Nats-Msg-Id it stored this recently (every stream's
# duplicate_window: shared/bus.py declares the streams with it).
DUPLICATE_WINDOW_S = 120
# The shortest an inbox may remember an event: past the duplicate window and the longest
# redelivery (a batch consumer's 6 deliveries, each after a 30 s ack wait and up to 10 s
# of backoff: 240 s), with room to spare.
MIN_INBOX_RETENTION_S = 600
# What the dead-letter stream keeps unless told otherwise: the oldest go first past either.
DLQ_MAX_AGE_S = 30 * 86400
DLQ_MAX_BYTES = 1024**3
LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class BoxopsSettings(BaseSettings):
    """Settings shared by all services; each service subclasses it for its own."""

    model_config = SettingsConfigDict(env_prefix="BOXOPS_", extra="ignore")

    home: Path = Field(DEFAULT_HOME, description="Where the embedded stack keeps its state.")
    nats_url: str = Field(
        "nats://127.0.0.1:4222",
        description="NATS server with JetStream; for a cluster, its seeds separated by commas "
        "(nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222): a service connects to "
        "any and moves to another when it is lost.",
    )
    nats_replicas: int = Field(
        1,
        ge=1,
        le=5,
        description="Copies JetStream keeps of each boxops stream (its durable consumers "
        "follow): 1 for one server, 3 for a three-node cluster, whose streams then survive "
        "the loss of any one node.",
    )
    nats_credentials: Path | None = Field(
        None,
        description="This service's bus identity: a credentials file of NATS_USER=…, "
        "NATS_PASSWORD=… lines (as `boxops up` and `boxops creds create` write); none: "
        "connect without one, to a server that asks for none.",
    )
    db_url: str | None = Field(
        None,
        description="This service's database: sqlite+aiosqlite:///… or postgresql+asyncpg://…; "
        "defaults to a SQLite file under home.",
    )
    db_schema: str | None = Field(
        None, description="PostgreSQL schema of this service; defaults to the service name."
    )
    outbox_retention_s: float = Field(
        3600.0,
        gt=0,
        description="Published outbox rows are deleted once published this long ago: "
        "nothing reads them after that, they are kept a while to see what a service sent. "
        "A row not yet published is never deleted.",
    )
    inbox_retention_s: float = Field(
        86400.0,
        description="Processed event ids are forgotten once processed this long ago. An id "
        "must outlive every way its event can come again, or the event is processed twice: "
        "JetStream drops a re-published duplicate only within its duplicate window "
        f"({DUPLICATE_WINDOW_S} s); a consumer is redelivered a message up to max_deliver times "
        "ack_wait (plus backoff) after it first came; and an outbox relay re-publishes a row "
        "that was sent but not marked published after an outage, however long it lasted. "
        f"Not shorter than {MIN_INBOX_RETENTION_S} s.",
    )
    retention_sweep_s: float = Field(
        60.0, gt=0, description="How often old outbox and inbox rows are deleted."
    )
    dlq_max_bytes: int = Field(
        DLQ_MAX_BYTES,
        gt=0,
        description="Most bytes the dead-letter stream keeps; beyond it the oldest go first.",
    )
    dlq_max_age_s: int = Field(
        DLQ_MAX_AGE_S, gt=0, description="Dead letters older than this are dropped (seconds)."
    )
    artifact_url: str = Field("", description="Blob store: file:///path or s3://bucket/prefix.")
    otel_exporter: Literal["none", "console", "otlp"] = Field("none", description="Where spans go.")
    otel_endpoint: str = Field(
        "http://127.0.0.1:4318/v1/traces", description="OTLP/HTTP traces endpoint."
    )
    instance: str = Field("", description="Name of this process among replicas.")
    log_format: Literal["text", "json"] = Field(
        "text", description="Service logs: text, or json (one object a line)."
    )
    log_level: str = Field("INFO", description="Least level of service log lines.")

    @field_validator("home")
    @classmethod
    def _absolute_home(cls, home: Path) -> Path:
        return absolute(home)

    @field_validator("nats_url")
    @classmethod
    def _nats_scheme(cls, url: str) -> str:
        return ",".join(seeds(url))

    def nats_login(self) -> dict[str, str]:
        """The NATS client's keyword arguments for this identity: none without one
        (ValueError naming the file if it cannot be read or lacks a field)."""
        return nats_login(self.nats_credentials) if self.nats_credentials else {}

    @field_validator("log_format", mode="before")
    @classmethod
    def _known_format(cls, name: str) -> str:
        if str(name).lower() not in LOG_FORMATS:
            raise ValueError(f"BOXOPS_LOG_FORMAT must be text or json, got {name!r}")
        return str(name).lower()

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, name: str) -> str:
        if name.upper() not in LOG_LEVELS:
            raise ValueError(
                f"BOXOPS_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {name!r}"
            )
        return name.upper()

    @field_validator("db_url")
    @classmethod
    def _async_driver(cls, url: str | None) -> str | None:
        if url is None:
            return None
        if url.startswith(("postgresql://", "postgres://")):
            return "postgresql+asyncpg://" + url.split("://", 1)[1]
        if url.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + url.split(":///", 1)[1]
        if not url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
            raise ValueError(f"BOXOPS_DB_URL must be SQLite or PostgreSQL, got {url!r}")
        return url

    @field_validator("inbox_retention_s")
    @classmethod
    def _outlives_duplicates(cls, horizon: float) -> float:
        if horizon < MIN_INBOX_RETENTION_S:
            raise ValueError(
                f"BOXOPS_INBOX_RETENTION_S must be at least {MIN_INBOX_RETENTION_S} s (JetStream's "
                f"duplicate window and the longest redelivery): an event that came again would "
                "be processed twice"
            )
        return horizon

    def database_url(self, service: str) -> str:
        if self.db_url:
            return self.db_url
        return f"sqlite+aiosqlite:///{self.home / 'db' / f'{service}.db'}"

    def database_schema(self, service: str) -> str:
        return self.db_schema or service

    def blob_url(self) -> str:
        return self.artifact_url or (self.home / "blobs").as_uri()
