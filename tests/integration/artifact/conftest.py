"""Fixtures of the artifact tests: moto's S3 server, and the stack on either backend."""

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.integration.artifact.support import (
    ArtifactStack,
    artifact_settings,
    running,
    start_moto,
)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    process = start_moto(port)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(10)


@pytest.fixture(params=["file", "s3"])
async def stack(
    request: pytest.FixtureRequest, tmp_path: Path, nats_url: str
) -> AsyncIterator[ArtifactStack]:
    """The artifact service on the file backend, then on S3 (moto): one suite for both."""
    moto = request.getfixturevalue("moto_endpoint") if request.param == "s3" else None
    settings = artifact_settings(request.param, tmp_path / "home", nats_url, moto)
    async with running(settings, request.param) as started:
        yield started
