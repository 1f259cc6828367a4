"""The data plane answers a fault with an id, never the exception's text (issue 16 #6)."""

import hashlib
import logging
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import free_port
from tests.integration.artifact.support import artifact_settings, running
from tests.integration.artifact.test_bad_input import reserve

BODY = b"some bytes"


async def test_a_fault_in_the_data_plane_answers_an_id_and_logs_the_rest(
    tmp_path: Path, nats_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = artifact_settings("file", tmp_path, nats_url)
    async with running(settings, "file") as stack:
        target = await reserve(stack, size=len(BODY), sha256=hashlib.sha256(BODY).hexdigest())
        staging = Path(urlsplit(settings.artifact_url).path) / "staging"
        shutil.rmtree(staging)
        staging.write_text("")  # a file where the folder was: receiving the bytes now fails

        with caplog.at_level(logging.ERROR):
            response = await stack.client.data.put(
                target["url"], content=BODY, headers=target["headers"]
            )

    assert response.status_code == 500
    found = re.fullmatch(r"internal error, id ([0-9a-f-]{36})", response.json()["detail"])
    assert found, response.text
    assert "staging" not in response.text and "Error" not in response.text
    logged = [r for r in caplog.records if found.group(1) in r.getMessage()]
    assert logged and logged[0].exc_info is not None
    assert "staging" in str(logged[0].exc_info[1])  # the path, in the log only


async def test_a_signature_beyond_ascii_is_refused_not_a_fault(
    tmp_path: Path, nats_url: str
) -> None:
    settings = artifact_settings("file", tmp_path, nats_url)
    async with running(settings, "file") as stack:
        target = await reserve(stack, size=len(BODY), sha256=hashlib.sha256(BODY).hexdigest())
        url = re.sub(r"signature=[^&]+", "signature=caf%C3%A9", target["url"])
        response = await stack.client.data.put(url, content=BODY, headers=target["headers"])

    assert (response.status_code, response.json()["detail"]) == (403, "bad signature")


async def test_a_store_the_gateway_cannot_reach_is_a_502_without_its_address(
    tmp_path: Path, nats_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings = artifact_settings("file", tmp_path, nats_url, artifact_public_url=nowhere)
    async with running(settings, "file") as stack:
        with caplog.at_level(logging.ERROR):
            response = await stack.client.api.put(
                f"/v1/artifacts/{hashlib.sha256(BODY).hexdigest()}", content=BODY
            )

    assert response.status_code == 502
    found = re.fullmatch(
        r"the blob store did not take the bytes: internal error, id ([0-9a-f-]{36})",
        response.json()["detail"],
    )
    assert found, response.text
    assert nowhere.split("//")[1] not in response.text
    assert any(found.group(1) in r.getMessage() for r in caplog.records)
