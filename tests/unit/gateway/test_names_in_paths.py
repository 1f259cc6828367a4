"""Routing a name that holds an encoded `/` onto its route, and leaving all else alone."""

import pytest

from services.gateway.names import routable


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ("/v1/datasets/a%2F..%2Fb/versions", "/v1/datasets/a%2F..%2Fb/versions"),
        ("/v1/models/a%2fb/versions/%70rod", "/v1/models/a%2Fb/versions/prod"),
        ("/v1/lineage/datasets/x%2Fy/1", "/v1/lineage/datasets/x%2Fy/1"),
        ("/v1/triggers/a%20b%2Fc/fire", "/v1/triggers/a b%2Fc/fire"),
    ],
)
def test_a_name_holding_an_encoded_slash_is_routed_as_one_segment(raw: str, path: str) -> None:
    assert routable(raw) == path


@pytest.mark.parametrize(
    "raw",
    [
        "/v1/datasets/iris/versions",  # no encoded slash: routed as the server decoded it
        "/v1/datasets/a%20b",
        "/v1/artifacts/names/runs%2Fid%2Flogs.jsonl",  # keys are paths: not names
        "/v1/runs/a%2Fb",
        "/healthz",
        "/",
    ],
)
def test_other_paths_are_routed_as_decoded(raw: str) -> None:
    assert routable(raw) is None
