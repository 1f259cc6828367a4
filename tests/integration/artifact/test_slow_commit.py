"""S3 answers CompleteMultipartUpload only once the object is assembled, which takes longer
the bigger the blob: a commit waits for it (its own timeout) rather than retrying the call
after the usual read timeout. Through a real proxy that holds that answer back."""

from pathlib import Path

from tests.integration.artifact.support import (
    artifact_settings,
    holding_answers,
    running,
    write_random,
)

HOLD_S = 1.5


async def test_a_slow_completion_is_waited_for_not_retried(
    tmp_path: Path, nats_url: str, moto_endpoint: str
) -> None:
    # POST …?uploadId=: CompleteMultipartUpload
    async with holding_answers(moto_endpoint, b"POST ", b"uploadId=", HOLD_S) as proxy:
        settings = artifact_settings(
            "s3",
            tmp_path,
            nats_url,
            moto_endpoint,
            s3_endpoint_url=proxy.url,  # the service's calls; clients send parts to S3 directly
            s3_public_endpoint_url=moto_endpoint,
            s3_read_timeout_s=0.5,
            s3_commit_timeout_s=HOLD_S * 4,
            multipart_threshold_bytes=5 * 1024**2,
            part_bytes=5 * 1024**2,
        )
        async with running(settings, "s3") as stack:
            source = write_random(tmp_path / "big.bin", 11 * 1024**2 + 1)
            blob = await stack.client.put_file(source, name="big.bin")
            copy = await stack.client.get(blob.sha256, tmp_path / "copy.bin")
            assert copy.read_bytes() == source.read_bytes()
