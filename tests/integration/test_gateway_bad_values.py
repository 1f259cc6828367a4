"""Values no database stores are refused where they come in, on SQLite and PostgreSQL: a 422
naming the field, never a 500 from the database or a 503 from a service that failed on them.
Each was found by fuzzing the API (tests/e2e/test_api_fuzz.py)."""

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import Stack, start_stack, stop_stack

DIGEST = "a" * 64
BEYOND_INT64 = 2**64 - 1
SPEC = "kind: component\nname: c\ncommand: [echo]\n"
LISTS = [
    "/v1/datasets",
    "/v1/datasets/iris/versions",
    "/v1/datasets/iris/versions/1/files",
    "/v1/models",
    "/v1/models/m/versions",
    "/v1/components",
    "/v1/components/c/versions",
    "/v1/pipelines",
    "/v1/pipelines/p/versions",
]


@pytest.fixture
async def stack(nats_url: str, db: tuple[str, str], tmp_path: Path) -> AsyncIterator[Stack]:
    running = await start_stack(
        nats_url, db, tmp_path / "home", with_executor=False, services=("registry",)
    )
    http = running.http
    assert (await http.put("/v1/datasets/iris", json={})).status_code == 200
    registered = await http.post(
        "/v1/components", content=SPEC, headers={"content-type": "application/yaml"}
    )
    assert registered.status_code == 201, registered.text
    yield running
    await stop_stack(running)


def refused(response: httpx.Response, *words: str) -> None:
    assert response.status_code == 422, response.text
    for word in words:
        assert word in response.text, response.text


async def test_an_offset_beyond_int64_is_refused_on_every_list_route(stack: Stack) -> None:
    for route in LISTS:
        refused(await stack.http.get(route, params={"offset": BEYOND_INT64}), "offset")
    assert (await stack.http.get("/v1/datasets", params={"offset": 2**63 - 1})).status_code == 200


@pytest.mark.parametrize(
    ("route", "parameter"),
    [
        ("/v1/datasets", "prefix"),
        ("/v1/datasets", "tag"),
        ("/v1/models", "prefix"),
        ("/v1/components", "type"),
        ("/v1/datasets/iris/versions", "digest"),
        ("/v1/runs", "component"),
        ("/v1/runs", "parent_id"),
    ],
)
async def test_a_nul_in_a_query_parameter_is_refused_by_name(
    stack: Stack, route: str, parameter: str
) -> None:
    response = await stack.http.get(route, params={parameter: "a\x00b"})
    refused(response, parameter, "a NUL character cannot be stored")


async def test_a_time_filter_out_of_range_in_utc_is_refused(stack: Stack) -> None:
    refused(await stack.http.get("/v1/runs?since=0001-01-01T00:00:00"), "since", "range")
    refused(await stack.http.get("/v1/runs?since=0001-01-01T00:00:00%2B01:00"), "since", "range")
    refused(await stack.http.get("/v1/runs?before=9999-12-31T23:00:00-05:00"), "before", "range")
    assert (await stack.http.get("/v1/runs?since=0001-01-01T00:00:00Z")).json() == []


@pytest.mark.parametrize("version", ["%C2%B9", "%D9%A3", "2147483648"])
async def test_a_version_that_is_not_a_storable_number_is_refused(
    stack: Stack, version: str
) -> None:
    refused(await stack.http.get(f"/v1/components/c/versions/{version}"), "c@")
    refused(await stack.http.get(f"/v1/datasets/iris/versions/{version}"), "iris@")


async def test_an_alias_to_a_version_beyond_int32_is_refused(stack: Stack) -> None:
    response = await stack.http.put("/v1/models/m/aliases/prod", json={"version": 2**31})
    refused(response, "version")


async def test_a_file_size_beyond_int64_is_refused(stack: Stack) -> None:
    files = [{"path": "a.csv", "size": BEYOND_INT64, "sha256": DIGEST}]
    refused(await stack.http.post("/v1/datasets/iris/versions", json={"files": files}), "size")
    refused(await stack.http.post("/v1/models/m/versions", json={"files": files}), "size")


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("a\nb.csv", "holds a control character"),
        ("a\x00b.csv", "holds a control character"),
        ("d/" + "x" * 256, "is longer than 255 bytes"),
    ],
)
async def test_a_manifest_path_no_file_system_takes_is_refused_and_nothing_recorded(
    stack: Stack, path: str, problem: str
) -> None:
    files = [{"path": path, "size": 1, "sha256": DIGEST}]
    refused(await stack.http.post("/v1/datasets/iris/versions", json={"files": files}), problem)
    refused(await stack.http.post("/v1/models/m/versions", json={"files": files}), problem)
    assert (await stack.http.get("/v1/datasets/iris/versions")).json()["total"] == 0


async def test_a_token_lifetime_beyond_a_century_is_refused(stack: Stack) -> None:
    body = {"name": "ci", "scopes": ["read"], "expires_in": 1.7976931348623157e308}
    refused(await stack.http.post("/v1/tokens", json=body), "expires_in", "at most a century")
    assert (await stack.http.get("/v1/tokens")).json() == []


async def test_an_upload_without_its_length_is_refused_before_anything_is_reserved(
    stack: Stack,
) -> None:
    async def chunked() -> AsyncIterator[bytes]:
        yield b"x"

    response = await stack.http.put(f"/v1/artifacts/{DIGEST}", content=chunked())
    assert response.status_code == 411, response.text
    assert "Content-Length" in response.json()["detail"]


@pytest.mark.parametrize("letter", ["0", "-608", str(2**64)])
async def test_a_dead_letter_id_that_no_stream_has_is_refused(stack: Stack, letter: str) -> None:
    refused(await stack.http.get(f"/v1/dlq/{letter}"), "id")
    refused(await stack.http.post(f"/v1/dlq/{letter}/replay"), "id")


async def test_a_dry_run_over_no_time_is_refused(stack: Stack) -> None:
    yaml = {"content-type": "text/yaml"}
    response = await stack.http.post("/v1/triggers/test?since=0", content="kind: x\n", headers=yaml)
    refused(response, "since", "longer than 0 s")


def points(**point: object) -> bytes:
    return json.dumps({"points": [{"id": "1", "name": "acc", "value": 1, **point}]}).encode()


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"\xce\xff", "json_invalid"),
        (points(name="a\x00b"), "a NUL character cannot be stored"),
        (points(step=2**31), "less than or equal to 2147483647"),
        (points(at="0001-01-01T00:00:00+01:00"), "out of range once in UTC"),
    ],
)
async def test_sdk_metrics_no_database_stores_are_refused(
    stack: Stack, body: bytes, problem: str
) -> None:
    response = await stack.http.post(
        "/v1/sdk/runs/r1/metrics", content=body, headers={"content-type": "application/json"}
    )
    refused(response, problem)


async def test_a_nul_in_a_dataset_or_model_text_is_refused_by_name(stack: Stack) -> None:
    described = await stack.http.put("/v1/datasets/iris", json={"description": "a\x00b"})
    refused(described, "description", "a NUL character cannot be stored")
    refused(await stack.http.put("/v1/datasets/iris", json={"tags": ["\x00"]}), "tags")
    files = [{"path": "a.csv", "size": 1, "sha256": DIGEST}]
    body = {"files": files, "framework": "sk\x00learn"}
    refused(await stack.http.post("/v1/models/m/versions", json=body), "framework", "NUL")


@pytest.mark.parametrize("subject", ["a\nb", "a b", "a..b", "a.>.b", "a*"])
async def test_a_dead_letter_filter_that_is_no_subject_is_refused(
    stack: Stack, subject: str
) -> None:
    refused(await stack.http.get("/v1/dlq", params={"subject": subject}), "subject")
    refused(await stack.http.post("/v1/dlq/replay", params={"subject": subject}), "subject")
    for fine in ("run.requested", "run.*", "dataset.>", ">"):
        assert (await stack.http.get("/v1/dlq", params={"subject": fine})).status_code == 200
