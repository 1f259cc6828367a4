"""The artifact service's contracts: key rules, request/reply bodies, visualisation types.

Pure: no I/O. The service, the gateway, the CLI, the registry and the executor import it,
so a key or a name is judged by the same rules wherever it enters boxops.

Key scheme (relative to the store's root, a directory or an S3 prefix):

    blobs/sha256/ab/<sha256>              the bytes, by content (256 folders, as git and DVC)
    blobs/uploads/<upload id>             S3: the bytes of a blob sent in parts (its row
                                          records the key: S3 cannot rename)
    previews/sha256/ab/<sha256>.json      the preview of a special object
    staging/<upload id>                   an upload in progress (never read as a blob)

Named keys point at blobs (the artifact database holds them, no bytes are copied):

    runs/<run id>/logs.jsonl              a finished run's log lines, one JSON object a line
    runs/<run id>/metrics.jsonl           a finished run's metric points, one JSON object a line
"""

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from shared.storable import ByteCount

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
MEDIA_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+$")
MAX_KEY_BYTES = 1024
MAX_SEGMENT_BYTES = 255
MAX_BATCH = 500

RESERVE = "svc.artifact.uploads.reserve"
COMMIT = "svc.artifact.uploads.commit"
ABORT = "svc.artifact.uploads.abort"
EXISTS = "svc.artifact.blobs.exists"
STAT = "svc.artifact.blobs.stat"
LIST = "svc.artifact.blobs.list"
DELETE = "svc.artifact.blobs.delete"
LOCATE = "svc.artifact.blobs.locate"
PREVIEW = "svc.artifact.blobs.preview"
NAME_BIND = "svc.artifact.names.bind"
NAME_GET = "svc.artifact.names.get"
NAME_LIST = "svc.artifact.names.list"


class BadKey(ValueError):
    """A key, name or digest that boxops refuses; the text says what is wrong with it."""


def check_digest(value: str) -> str:
    """A sha256 as 64 lowercase hex digits (an optional `sha256:` prefix is dropped)."""
    digest = value.removeprefix("sha256:")
    if not SHA256.match(digest):
        raise BadKey(f"not a sha256 digest (64 lowercase hex digits): {value[:80]!r}")
    return digest


def check_key(key: str, what: str = "key") -> str:
    """A relative, '/'-separated path that stays inside whatever root it is joined to."""
    if not key:
        raise BadKey(f"{what} is empty")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise BadKey(f"{what} is not valid UTF-8: {key[:80]!r}") from None
    if size > MAX_KEY_BYTES:
        raise BadKey(f"{what} is {size} bytes long; the limit is {MAX_KEY_BYTES}")
    if "\x00" in key:
        raise BadKey(f"{what} contains a NUL byte: {key[:80]!r}")
    if "\\" in key:
        raise BadKey(f"{what} contains a backslash; use '/' between parts: {key[:80]!r}")
    if CONTROL.search(key):
        raise BadKey(f"{what} contains a control character: {key[:80]!r}")
    if key.startswith("/"):
        raise BadKey(f"{what} is an absolute path; give it relative: {key[:80]!r}")
    for segment in key.split("/"):
        _check_segment(segment, key, what)
    return key


def _check_segment(segment: str, key: str, what: str) -> None:
    if segment in ("", ".", ".."):
        shown = segment or "an empty part ('//' or a trailing '/')"
        raise BadKey(f"{what} contains {shown!s}, which could leave its root: {key[:80]!r}")
    if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
        raise BadKey(f"{what} has a part longer than {MAX_SEGMENT_BYTES} bytes: {key[:80]!r}")


def check_upload_id(value: str) -> str:
    if not UPLOAD_ID.match(value):
        raise BadKey(f"not an upload id: {value[:80]!r}")
    return value


def _fanned(sha256: str) -> str:
    return f"sha256/{sha256[:2]}/{sha256}"


def blob_key(sha256: str) -> str:
    return f"blobs/{_fanned(check_digest(sha256))}"


def preview_key(sha256: str) -> str:
    return f"previews/{_fanned(check_digest(sha256))}.json"


def staging_key(upload_id: str) -> str:
    return f"staging/{check_upload_id(upload_id)}"


def uploaded_blob_key(upload_id: str) -> str:
    """Where a blob sent in parts stays: S3 has no rename, and a copy of a big object under
    its content key would cost as much as the upload's own completion."""
    return f"blobs/uploads/{check_upload_id(upload_id)}"


def run_logs_key(run_id: str) -> str:
    return check_key(f"runs/{run_id}/logs.jsonl")


def run_metrics_key(run_id: str) -> str:
    return check_key(f"runs/{run_id}/metrics.jsonl")


def frame_header(upload_id: str, size: int) -> bytes:
    """A bundle frame's header: many small uploads go in one PUT as header + bytes frames."""
    return f"{upload_id} {size}\n".encode()


def _media_type(value: str) -> str:
    if len(value) > 255 or not MEDIA_TYPE.match(value):
        raise ValueError(f"not a media type such as text/csv: {value[:80]!r}")
    return value


Digest = Annotated[str, AfterValidator(check_digest)]
Key = Annotated[str, AfterValidator(check_key)]
Name = Annotated[str, AfterValidator(lambda v: check_key(v, "name"))]
UploadId = Annotated[str, AfterValidator(check_upload_id)]
MediaType = Annotated[str, AfterValidator(_media_type)]


class BlobSpec(BaseModel):
    """A blob a client wants to upload: its size, and its digest if known before sending."""

    size: ByteCount = Field(description="Bytes the client will send.")
    sha256: Digest | None = Field(None, description="Declared digest; else given at commit.")
    name: Name | None = Field(None, description="File name, for previews and downloads.")
    media_type: MediaType | None = Field(None, description="e.g. text/csv.")


class ReserveRequest(BaseModel):
    blobs: list[BlobSpec] = Field(min_length=1, max_length=MAX_BATCH)


class UploadPart(BaseModel):
    number: int = Field(ge=1, description="S3 part number.")
    url: str = Field(description="Where to PUT this part's bytes.")
    offset: int = Field(ge=0, description="First byte of the blob in this part.")
    size: int = Field(ge=0, description="Bytes in this part.")


class UploadTarget(BaseModel):
    """Where the bytes go: one PUT to `url`, or one PUT per part (multipart)."""

    upload_id: str
    method: Literal["PUT"] = "PUT"
    url: str | None = Field(None, description="Single PUT target; None when multipart.")
    headers: dict[str, str] = Field(default_factory=dict, description="Headers to send.")
    parts: list[UploadPart] = Field(default_factory=list, description="Multipart parts.")
    bundle_url: str | None = Field(
        None, description="Where small uploads may go many to one PUT (frames: see bundles)."
    )
    expires_at: datetime


class BlobInfo(BaseModel):
    sha256: str
    size: int
    name: str | None = None
    media_type: str | None = None
    preview_kind: str | None = Field(None, description="dataframe, array, json, image, …")
    preview_status: Literal["none", "pending", "ready", "failed"] = "none"
    created_at: datetime
    stored: bool = Field(False, description="True when this call stored the bytes.")
    # The store's key of the bytes when not blob_key(sha256): the service's own business,
    # never sent (exclude).
    location: str | None = Field(None, exclude=True)


class Reservation(BaseModel):
    """Per blob: it exists already, or here is where to send it."""

    sha256: str | None
    exists: bool = False
    blob: BlobInfo | None = None
    upload: UploadTarget | None = None


class PartDone(BaseModel):
    number: int = Field(ge=1)
    etag: str = Field(min_length=1)


class CommitItem(BaseModel):
    upload_id: UploadId
    sha256: Digest | None = Field(None, description="Needed if not declared at reserve.")
    parts: list[PartDone] = Field(default_factory=list, description="Multipart ETags.")


class CommitRequest(BaseModel):
    commits: list[CommitItem] = Field(min_length=1, max_length=MAX_BATCH)


class CommitResult(BaseModel):
    upload_id: str
    ok: bool = True
    status: int = 200
    error: str = ""
    blob: BlobInfo | None = None


class UploadRef(BaseModel):
    upload_id: UploadId


class DigestsQuery(BaseModel):
    sha256: list[Digest] = Field(min_length=1, max_length=10_000)


class Presence(BaseModel):
    present: list[str]
    missing: list[str]


class BlobQuery(BaseModel):
    sha256: Digest


class BlobList(BaseModel):
    limit: int = Field(100, ge=1, le=1000)
    after: Digest | None = Field(None, description="Cursor: the last sha256 of the page before.")
    name_prefix: str | None = Field(None, max_length=MAX_KEY_BYTES)


class Location(BaseModel):
    sha256: str
    size: int
    url: str = Field(description="GET here for the bytes; supports Range.")


class NameBind(BaseModel):
    key: Key
    sha256: Digest


class NameQuery(BaseModel):
    key: Key


class NameList(BaseModel):
    prefix: str = Field("", max_length=MAX_KEY_BYTES)
    limit: int = Field(100, ge=1, le=1000)


class NameInfo(BaseModel):
    key: str
    sha256: str
    size: int
    updated_at: datetime


class Preview(BaseModel):
    sha256: str
    kind: str | None
    status: Literal["none", "pending", "ready", "failed"]
    preview: dict[str, Any] | None = None


class ConfusionMatrix(BaseModel):
    """A visualisation the SDK writes: `kind` tells readers how to draw it."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    kind: Literal["confusion_matrix"] = "confusion_matrix"
    title: str = ""
    labels: list[str] = Field(min_length=1, max_length=1000)
    matrix: list[list[float]] = Field(description="matrix[actual][predicted].")

    @model_validator(mode="after")
    def _square(self) -> "ConfusionMatrix":
        n = len(self.labels)
        if len(self.matrix) != n or any(len(row) != n for row in self.matrix):
            raise ValueError(f"matrix must be {n} by {n}, one row and column per label")
        return self


class Curve(BaseModel):
    """A curve (ROC, precision-recall, loss…): matching x and y series."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    kind: Literal["curve"] = "curve"
    title: str = ""
    x_label: str = "x"
    y_label: str = "y"
    x: list[float] = Field(max_length=1_000_000)
    y: list[float] = Field(max_length=1_000_000)
    auc: float | None = None

    @model_validator(mode="after")
    def _matching(self) -> "Curve":
        if len(self.x) != len(self.y):
            raise ValueError(f"x has {len(self.x)} points and y {len(self.y)}")
        return self


VISUALISATION_TYPES = {
    "confusion_matrix": "application/vnd.boxops.confusion-matrix+json",
    "curve": "application/vnd.boxops.curve+json",
}
