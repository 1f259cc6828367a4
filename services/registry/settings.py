from pydantic import Field

from shared.settings import BoxopsSettings


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
