"""The artifact service's settings: where blobs live, how clients reach them, the limits."""

from pydantic import Field, field_validator

from shared.settings import BoxopsSettings

MiB = 1024**2
GiB = 1024**3


class ArtifactSettings(BoxopsSettings):
    s3_endpoint_url: str = Field("", description="S3 API endpoint (MinIO…); empty for AWS.")
    s3_public_endpoint_url: str = Field(
        "", description="Endpoint put in presigned URLs, if clients reach S3 by another name."
    )
    s3_region: str = Field("us-east-1", description="S3 region.")
    s3_access_key: str = Field("", description="S3 access key; empty for the default chain.")
    s3_secret_key: str = Field("", description="S3 secret key.")
    s3_connect_timeout_s: float = Field(3.0, gt=0, description="Connect timeout per S3 call.")
    s3_read_timeout_s: float = Field(20.0, gt=0, description="Read timeout per S3 call.")
    s3_max_attempts: int = Field(3, ge=1, le=10, description="Tries per S3 call.")
    s3_commit_timeout_s: float = Field(
        600.0, gt=0, description="Read timeout of S3 calls that take longer the bigger the blob."
    )
    artifact_host: str = Field("127.0.0.1", description="Data plane address (file backend).")
    artifact_port: int = Field(8766, ge=0, le=65535, description="Data plane port.")
    artifact_public_url: str = Field(
        "", description="Data plane URL clients use; default http://<host>:<port>."
    )
    artifact_secret: str = Field("", description="Key that signs data-plane URLs; random if empty.")
    max_blob_bytes: int = Field(1024 * GiB, gt=0, description="Largest blob accepted.")
    multipart_threshold_bytes: int = Field(  # S3 takes at most 5 GiB in one PUT
        64 * MiB, ge=5 * MiB, le=5 * GiB, description="S3: blobs above this size go up in parts."
    )
    part_bytes: int = Field(
        64 * MiB, ge=5 * MiB, le=5 * GiB, description="S3: size of an upload part."
    )
    url_expiry_s: int = Field(3600, ge=10, description="Lifetime of upload and download URLs.")
    upload_ttl_s: float = Field(24 * 3600, gt=0, description="Unfinished uploads expire.")
    upload_sweep_s: float = Field(60.0, gt=0, description="How often expired uploads go.")
    preview_max_bytes: int = Field(1 * GiB, ge=0, description="Bigger blobs get no preview.")
    preview_timeout_s: float = Field(60.0, gt=0, description="Time a preview may take.")
    preview_memory_mb: int = Field(2048, ge=256, description="Memory limit of previews.")

    @field_validator("artifact_url")
    @classmethod
    def _backend_scheme(cls, url: str) -> str:
        if url and not url.startswith(("file://", "s3://")):
            raise ValueError(
                f"BOXOPS_ARTIFACT_URL must be file:///path or s3://bucket/prefix: {url}"
            )
        return url

    def data_plane_url(self) -> str:
        return (
            self.artifact_public_url or f"http://{self.artifact_host}:{self.artifact_port}"
        ).rstrip("/")
