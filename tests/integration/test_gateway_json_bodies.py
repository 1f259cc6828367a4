"""A JSON body is read as JSON whatever content type the client put on it (curl -d)."""

import pytest

from tests.integration.conftest import Stack, wait_run

FORM = "application/x-www-form-urlencoded"
UNLABELLED = [{}, {"content-type": FORM}, {"content-type": f"{FORM}; charset=utf-8"}]


@pytest.mark.parametrize("headers", UNLABELLED)
async def test_a_run_posted_without_a_json_content_type_is_accepted(
    stack: Stack, headers: dict[str, str]
) -> None:
    body = b'{"command": ["python", "-c", "print(1)"]}'

    response = await stack.http.post("/v1/runs", content=body, headers=headers)

    assert response.status_code == 202, response.text
    run = await wait_run(stack.http, response.json()["id"])
    assert run["state"] == "completed"


@pytest.mark.parametrize("headers", UNLABELLED)
async def test_every_json_route_reads_the_body_as_json(
    stack: Stack, headers: dict[str, str]
) -> None:
    response = await stack.http.post(
        "/v1/artifacts/exists", content=b'{"sha256": ["not-a-digest"]}', headers=headers
    )

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", "sha256", 0]]


@pytest.mark.parametrize("headers", UNLABELLED)
async def test_a_body_that_is_not_json_is_refused_naming_the_problem(
    stack: Stack, headers: dict[str, str]
) -> None:
    response = await stack.http.post("/v1/runs", content=b'{"command": [', headers=headers)

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["type"] == "json_invalid"
    assert error["msg"] == "JSON decode error"


@pytest.mark.parametrize("headers", UNLABELLED)
async def test_a_yaml_route_keeps_its_body_as_text(stack: Stack, headers: dict[str, str]) -> None:
    # `since` is checked after the body is read: a YAML body read as JSON would fail first.
    response = await stack.http.post(
        "/v1/triggers/test?since=soon", content=b"kind: trigger\nname: t\n", headers=headers
    )

    assert response.status_code == 422
    assert response.json()["detail"].startswith("since:")
