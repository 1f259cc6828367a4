"""External versions pinned where the source allows it: an S3 object's version id and
ETag, an S3 prefix's listing (moto's S3 server), an HTTP resource's ETag; drift found."""

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import uvicorn
from fastapi import FastAPI, Response
from moto.server import ThreadedMotoServer

from services.registry.settings import RegistrySettings
from tests.conftest import free_port, wait_port
from tests.integration.registry.conftest import Registry, start_registry, stop_registry


@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
async def pinning(
    nats_url: str, db: tuple[str, str], tmp_path: Path, s3_endpoint: str
) -> AsyncIterator[Registry]:
    settings = RegistrySettings(
        nats_url=nats_url,
        home=tmp_path,
        db_url=db[0],
        db_schema=db[1],
        pin_s3=True,
        s3_endpoint_url=s3_endpoint,
        s3_access_key="test",
        s3_secret_key="test",
    )
    running = await start_registry(nats_url, db, tmp_path, settings)
    yield running
    await stop_registry(running)


def bucket(endpoint: str) -> Any:
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )
    s3.create_bucket(Bucket="lake")
    s3.put_bucket_versioning(Bucket="lake", VersioningConfiguration={"Status": "Enabled"})
    return s3


async def verify(registry: Registry, name: str) -> dict[str, Any]:
    response = await registry.http.post(f"/v1/datasets/{name}/versions/latest/verify")
    return response.json()  # type: ignore[no-any-return]


async def test_an_s3_object_and_prefix_are_pinned_and_their_drift_found(
    pinning: Registry, s3_endpoint: str
) -> None:
    s3 = await asyncio.to_thread(bucket, s3_endpoint)
    await asyncio.to_thread(s3.put_object, Bucket="lake", Key="iris/iris.csv", Body=b"a,b\n1,2\n")
    await asyncio.to_thread(s3.put_object, Bucket="lake", Key="iris/part/x", Body=b"x")

    response = await pinning.http.post(
        "/v1/datasets/iris/versions", json={"uri": "s3://lake/iris/iris.csv"}
    )
    pin = response.json()["pin"]
    assert pin["kind"] == "s3" and pin["version_id"] and pin["etag"]
    assert (await verify(pinning, "iris"))["status"] == "ok"
    again = await pinning.http.post(
        "/v1/datasets/iris/versions", json={"uri": "s3://lake/iris/iris.csv"}
    )
    assert again.status_code == 200  # same object version: same identity

    prefix = await pinning.http.post("/v1/datasets/lake/versions", json={"uri": "s3://lake/iris/"})
    assert prefix.json()["pin"]["files"] == 2
    await asyncio.to_thread(s3.put_object, Bucket="lake", Key="iris/iris.csv", Body=b"a,b\n9,9\n")
    found = await verify(pinning, "iris")
    assert found["status"] == "drift"
    assert any(line.startswith("version_id:") for line in found["differences"])
    listed = await verify(pinning, "lake")
    assert listed["status"] == "drift" and "modified iris.csv" in listed["differences"]
    moved = await pinning.http.post(
        "/v1/datasets/iris/versions", json={"uri": "s3://lake/iris/iris.csv"}
    )
    assert (moved.status_code, moved.json()["version"]) == (201, 2)  # new object version


async def test_an_http_resource_is_pinned_by_its_etag(registry: Registry) -> None:
    served = FastAPI()
    state = {"etag": '"v1"'}

    @served.api_route("/iris.csv", methods=["GET", "HEAD"])
    async def iris() -> Response:
        return Response(b"a,b\n", headers={"etag": state["etag"]}, media_type="text/csv")

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(served, port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    await asyncio.to_thread(wait_port, port)
    try:
        uri = f"http://127.0.0.1:{port}/iris.csv"
        created = await registry.http.post("/v1/datasets/web/versions", json={"uri": uri})
        assert created.json()["pin"]["etag"] == '"v1"'
        assert (await verify(registry, "web"))["status"] == "ok"
        state["etag"] = '"v2"'
        assert (await verify(registry, "web"))["differences"] == [
            """etag: '"v1"' → '"v2"'""",
            """fingerprint: '"v1"' → '"v2"'""",
        ]
    finally:
        server.should_exit = True
        await serving


async def test_a_declared_digest_of_an_s3_object_is_checked_by_reading_it(
    pinning: Registry, s3_endpoint: str
) -> None:
    s3 = await asyncio.to_thread(bucket, s3_endpoint)
    rows = b"a,b\n1,2\n"
    await asyncio.to_thread(s3.put_object, Bucket="lake", Key="iris/iris.csv", Body=rows)
    uri, made_up = "s3://lake/iris/iris.csv", "sha256:" + "0" * 64
    actual = "sha256:" + hashlib.sha256(rows).hexdigest()

    await pinning.http.post("/v1/datasets/iris/versions", json={"uri": uri, "digest": made_up})
    wrong = await pinning.settled("iris", 1)
    assert (wrong["state"], wrong["state_reason"]) == (
        "failed",
        f"digest mismatch: declared {made_up}, the data has {actual}",
    )
    latest = await pinning.http.post("/v1/datasets/iris/versions/latest/verify")
    assert (latest.status_code, latest.json()["detail"]) == (
        404,
        "dataset 'iris' has no pinned version yet",
    )

    await pinning.http.post("/v1/datasets/iris/versions", json={"uri": uri, "digest": actual})
    right = await pinning.settled("iris", 2)
    assert (right["state"], right["digest"], right["pin"]["sha256"]) == (
        "pinned",
        actual,
        actual.removeprefix("sha256:"),
    )
    assert (await verify(pinning, "iris"))["status"] == "ok"
