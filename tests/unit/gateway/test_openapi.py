"""The gateway's OpenAPI document, as clients and the API fuzzer read it: every reference
resolves, every error answer is described, and one bound holds every `offset`."""

from collections.abc import Iterator
from typing import Any

import pytest

from services.gateway.app import build_app
from services.gateway.settings import GatewaySettings
from shared.storable import INT64_MAX


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_app(GatewaySettings()).openapi()


def operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def test_every_reference_in_the_document_points_at_one_of_its_schemas(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    found = set(refs(document))
    assert "#/components/schemas/Problem" in found
    assert [ref for ref in found if ref.removeprefix("#/components/schemas/") not in schemas] == []


def test_the_sdk_metrics_body_describes_each_point(document: dict[str, Any]) -> None:
    body = document["paths"]["/v1/sdk/runs/{run_id}/metrics"]["post"]["requestBody"]
    point = body["content"]["application/json"]["schema"]["properties"]["points"]["items"]
    assert point["required"] == ["id", "name", "value"]


def test_every_v1_operation_describes_its_error_answers(document: dict[str, Any]) -> None:
    """4XX and 5XX are a Problem; a 4xx a route describes itself allows one too (FastAPI's
    own 422 for a malformed request can come from any route)."""
    problem = {"$ref": "#/components/schemas/Problem"}
    for name, operation in operations(document):
        if " /v1/" not in name:
            continue
        for status, response in operation["responses"].items():
            if status[0] in "45":
                schema = response["content"]["application/json"]["schema"]
                assert schema == problem or problem in schema.get("anyOf", []), (name, status)
        assert {"4XX", "5XX"} <= set(operation["responses"]), name


def test_every_offset_is_bounded_by_what_the_database_takes(document: dict[str, Any]) -> None:
    bounded = {}
    for name, operation in operations(document):
        for parameter in operation.get("parameters", []):
            if parameter["name"] == "offset":
                bounded[name] = (parameter["schema"]["minimum"], parameter["schema"]["maximum"])
    assert len(bounded) >= 9
    assert set(bounded.values()) == {(0, INT64_MAX)}
