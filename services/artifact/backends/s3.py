"""Blobs in S3 (AWS, MinIO…) through aioboto3; bytes go between clients and S3 directly.

Clients PUT through presigned URLs: a small blob in one PUT to a staging key, a big one in
parts of a multipart upload. On commit the service re-hashes the object as a stream, and
only when it hashes to the declared sha256 is it kept: a small one copied (server-side)
under its content key, a big one where its parts were joined, which the blob's row records
(a copy would cost as much as the upload again). Until the service completes a multipart
upload, nothing is at its key: a client's URLs cannot replace a blob's bytes.
"""

import asyncio
import base64
import contextlib
import hashlib
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import aioboto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from services.artifact.domain import (
    Refused,
    Unavailable,
    Upload,
    check_parts,
    check_received,
    parts,
)
from services.artifact.settings import ArtifactSettings
from shared.artifacts import (
    BlobInfo,
    PartDone,
    UploadPart,
    UploadTarget,
    blob_key,
    check_key,
    preview_key,
    staging_key,
    uploaded_blob_key,
)

CHUNK = 1024**2
FINISH_CONCURRENCY = 32  # commits re-read their bytes from S3: many overlap, not unbounded
MISSING = ("404", "NoSuchKey", "NotFound", "NoSuchUpload")


class S3Store:
    def __init__(self, settings: ArtifactSettings) -> None:
        url = urlparse(settings.artifact_url)
        self.bucket = url.netloc
        self.prefix = url.path.strip("/")
        self.settings = settings
        self.endpoint = settings.s3_endpoint_url or "AWS S3"
        self._stack = AsyncExitStack()
        self.s3: Any = None
        self.slow: Any = None  # completing and copying parts: S3 answers once it is done
        self.signer: Any = None
        self._finishing = asyncio.Semaphore(FINISH_CONCURRENCY)

    def _client(self, endpoint: str | None, read_timeout_s: float | None = None) -> Any:
        s = self.settings
        config = Config(
            signature_version="s3v4",
            connect_timeout=s.s3_connect_timeout_s,
            read_timeout=read_timeout_s or s.s3_read_timeout_s,
            retries={"max_attempts": s.s3_max_attempts, "mode": "standard"},
            s3={"addressing_style": "path"} if endpoint else None,
        )
        session = aioboto3.Session(
            aws_access_key_id=s.s3_access_key or None,
            aws_secret_access_key=s.s3_secret_key or None,
            region_name=s.s3_region,
        )
        return session.client("s3", endpoint_url=endpoint or None, config=config)

    async def start(self) -> None:
        s = self.settings
        self.s3 = await self._stack.enter_async_context(self._client(s.s3_endpoint_url))
        # A timeout there would retry a call that is still running, and fail the commit.
        slow = self._client(s.s3_endpoint_url, max(s.s3_commit_timeout_s, s.s3_read_timeout_s))
        self.slow = await self._stack.enter_async_context(slow)
        public = s.s3_public_endpoint_url
        self.signer = (
            await self._stack.enter_async_context(self._client(public)) if public else self.s3
        )

    async def close(self) -> None:
        await self._stack.aclose()

    def key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    @contextlib.asynccontextmanager
    async def _calling(self, what: str) -> AsyncIterator[None]:
        """S3 trouble as a clear refusal: 503 when it is down or slow, 4xx when it says no."""
        try:
            yield
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "")
            if code in MISSING:
                raise Refused(404, f"{what}: not found in S3 ({code})") from None
            if code in ("InvalidPart", "InvalidPartOrder", "EntityTooSmall", "BadDigest"):
                raise Refused(400, f"{what}: S3 refused the parts ({code}): {err}") from None
            raise Unavailable(f"{what}: S3 at {self.endpoint} failed: {err}") from None
        except (TimeoutError, BotoCoreError, OSError) as err:
            raise Unavailable(
                f"{what}: S3 at {self.endpoint} did not answer after "
                f"{self.settings.s3_max_attempts} tries: {err}"
            ) from None

    async def _presign(self, method: str, params: dict[str, Any]) -> str:
        expiry = self.settings.url_expiry_s
        params = {"Bucket": self.bucket, **params}
        return await self.signer.generate_presigned_url(method, Params=params, ExpiresIn=expiry)

    def _staged(self, upload: Upload) -> str:
        """Where an upload's bytes go: staging for one PUT, their final key for parts."""
        if upload.multipart_id:
            return self.key(uploaded_blob_key(upload.id))
        return self.key(staging_key(upload.id))

    async def begin(self, upload: Upload) -> tuple[Upload, UploadTarget]:
        target = UploadTarget(upload_id=upload.id, expires_at=upload.expires_at)
        if upload.size <= self.settings.multipart_threshold_bytes:
            params: dict[str, Any] = {"Key": self._staged(upload)}
            if upload.sha256:  # S3 itself then refuses a body that does not match
                checksum = _base64(upload.sha256)
                params["ChecksumSHA256"] = checksum
                target.headers["x-amz-checksum-sha256"] = checksum
            target.url = await self._presign("put_object", params)
            return upload, target
        key = self.key(uploaded_blob_key(upload.id))
        async with self._calling(f"upload {upload.id}"):
            created = await self.s3.create_multipart_upload(Bucket=self.bucket, Key=key)
        upload = _with_multipart(upload, created["UploadId"])
        for part in parts(upload.size, upload.part_bytes):
            url = await self._presign(
                "upload_part",
                {"Key": key, "UploadId": upload.multipart_id, "PartNumber": part.number},
            )
            target.parts.append(
                UploadPart(number=part.number, url=url, offset=part.offset, size=part.size)
            )
        return upload, target

    async def finish(self, upload: Upload, sha256: str, done: list[PartDone]) -> str | None:
        async with self._finishing:
            return await self._finish(upload, sha256, done)

    async def _finish(self, upload: Upload, sha256: str, done: list[PartDone]) -> str | None:
        staged = self._staged(upload)
        if upload.multipart_id:
            await self._complete(upload, staged, done)
        received, size = await self._rehash(staged, upload.id)
        check_received(sha256, upload.size, received, size)  # wrong: the service aborts it
        if upload.multipart_id:
            return uploaded_blob_key(upload.id)
        if not await self._has(sha256):
            await self._copy(staged, self.key(blob_key(sha256)))
        await self._delete(staged)
        return None

    async def _complete(self, upload: Upload, staged: str, done: list[PartDone]) -> None:
        ordered = check_parts(done, parts(upload.size, upload.part_bytes))
        listed = [{"PartNumber": p.number, "ETag": p.etag} for p in ordered]
        async with self._calling(f"upload {upload.id}"):
            try:
                await self.slow.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=staged,
                    UploadId=upload.multipart_id,
                    MultipartUpload={"Parts": listed},
                )
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") != "NoSuchUpload":
                    raise
                # Completed by an earlier try of this commit whose reply was lost: go on.

    async def _rehash(self, key: str, upload_id: str) -> tuple[str, int]:
        hasher, size = hashlib.sha256(), 0
        async with self._calling(f"upload {upload_id}"):
            try:
                response = await self.s3.get_object(Bucket=self.bucket, Key=key)
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") in MISSING:
                    raise Refused(
                        409, f"no bytes received for upload {upload_id}: PUT them first"
                    ) from None
                raise
            async for chunk in _chunks(response["Body"]):
                hasher.update(chunk)
                size += len(chunk)
        return hasher.hexdigest(), size

    async def _copy(self, source: str, target: str) -> None:
        copy_source = {"Bucket": self.bucket, "Key": source}
        async with self._calling("copy into the content key"):
            await self.slow.copy_object(Bucket=self.bucket, Key=target, CopySource=copy_source)

    async def abort(self, upload: Upload) -> None:
        staged = self._staged(upload)
        async with self._calling(f"abort upload {upload.id}"):
            if upload.multipart_id:
                with contextlib.suppress(ClientError):
                    await self.s3.abort_multipart_upload(
                        Bucket=self.bucket, Key=staged, UploadId=upload.multipart_id
                    )
            await self._delete(staged)

    async def _delete(self, key: str) -> None:
        async with self._calling("delete"):
            await self.s3.delete_object(Bucket=self.bucket, Key=key)

    async def _has(self, sha256: str) -> bool:
        async with self._calling(f"blob {sha256}"):
            try:
                await self.s3.head_object(Bucket=self.bucket, Key=self.key(blob_key(sha256)))
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") in MISSING:
                    return False
                raise
        return True

    def _bytes_of(self, blob: BlobInfo) -> str:
        return self.key(blob.location or blob_key(blob.sha256))

    async def locate(self, blob: BlobInfo) -> str:
        params: dict[str, Any] = {"Key": self._bytes_of(blob)}
        if blob.name:
            filename = blob.name.rsplit("/", 1)[-1].replace('"', "")
            params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
        return await self._presign("get_object", params)

    async def delete(self, blob: BlobInfo) -> None:
        await self._delete(self._bytes_of(blob))
        await self._delete(self.key(preview_key(blob.sha256)))

    async def discard(self, location: str) -> None:
        await self._delete(self.key(location))

    async def write_previews(self, documents: dict[str, bytes]) -> None:
        async def write(sha256: str, data: bytes) -> None:
            key = preview_key(sha256)
            async with self._calling(f"write {key}"):
                await self.s3.put_object(Bucket=self.bucket, Key=self.key(key), Body=data)

        await asyncio.gather(*(write(sha256, data) for sha256, data in documents.items()))

    async def read_preview(self, sha256: str) -> bytes | None:
        key = preview_key(sha256)
        async with self._calling(f"read {key}"):
            try:
                response = await self.s3.get_object(Bucket=self.bucket, Key=self.key(key))
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") in MISSING:
                    return None
                raise
            body = response["Body"]
            try:
                return await body.read()
            finally:
                body.close()

    @contextlib.asynccontextmanager
    async def local_file(self, blob: BlobInfo) -> AsyncIterator[Path]:
        with tempfile.TemporaryDirectory(prefix="boxops-preview-") as folder:
            path = Path(folder) / blob.sha256
            async with self._calling(f"blob {blob.sha256}"):
                response = await self.s3.get_object(Bucket=self.bucket, Key=self._bytes_of(blob))
                with path.open("wb") as out:
                    async for chunk in _chunks(response["Body"]):
                        out.write(chunk)
            yield path


async def _chunks(body: Any) -> AsyncIterator[bytes]:
    try:
        async for chunk in body.iter_chunks(CHUNK):
            yield chunk
    finally:
        body.close()


def _base64(sha256: str) -> str:
    return base64.b64encode(bytes.fromhex(sha256)).decode()


def _with_multipart(upload: Upload, multipart_id: str) -> Upload:
    return replace(upload, multipart_id=multipart_id)
