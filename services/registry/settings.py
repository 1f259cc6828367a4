import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from shared.settings import BoxopsSettings

GiB = 1024**3


class RegistrySettings(BoxopsSettings):
    relay_interval_s: float = Field(1.0, gt=0, description="Outbox relay period.")
    pin_timeout_s: float = Field(5.0, gt=0, description="Wait this long for a source to answer.")
    pin_s3: bool = Field(
        False,
        description="Pin s3:// versions (ETag, version id) with the S3 client settings below; "
        "off by default so no credentials are looked for.",
    )
    s3_endpoint_url: str | None = Field(None, description="S3 endpoint (MinIO, moto) to pin.")
    s3_access_key: str | None = Field(None, description="S3 access key for pinning.")
    s3_secret_key: str | None = Field(None, description="S3 secret key for pinning.")
    s3_region: str = Field("us-east-1", description="S3 region for pinning.")
    staged_ttl_s: float = Field(3600, gt=0, description="Abandoned manifest uploads expire.")
    external_file_roots: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="The only folders whose file:// data may become external versions, "
        "separated like PATH; none by default, so no file:// data is accepted.",
    )
    pin_max_bytes: int = Field(
        16 * GiB, gt=0, description="External file:// data bigger than this is not hashed."
    )
    pin_max_s: float = Field(600, gt=0, description="Hashing one external version stops here.")
    pins_at_once: int = Field(2, ge=1, description="External versions hashed at the same time.")

    @field_validator("external_file_roots", mode="before")
    @classmethod
    def _roots(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part for part in value.split(os.pathsep) if part.strip()]
        return value

    @field_validator("external_file_roots")
    @classmethod
    def _absolute(cls, roots: list[Path]) -> list[Path]:
        relative = [str(root) for root in roots if not root.is_absolute()]
        if relative:
            raise ValueError(f"external file roots must be absolute paths: {', '.join(relative)}")
        return roots
