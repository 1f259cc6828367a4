"""What a generic hook publishes of a body: the body, or the fields its mapping reads."""

import pytest

from services.gateway.hook_mapping import Unmappable, mapped

PUSH = {
    "ref": "refs/heads/main",
    "after": "9f8e7d",
    "repository": {"full_name": "acme/churn", "private": True},
    "commits": [{"id": "9f8e7d", "message": "retrain"}],
}


def test_without_a_mapping_the_body_is_the_event() -> None:
    assert mapped(PUSH, {}) == PUSH


def test_a_mapping_reads_dotted_paths_into_fields() -> None:
    mapping = {"repo": "repository.full_name", "commit": "after", "first": "commits.0.message"}
    assert mapped(PUSH, mapping) == {"repo": "acme/churn", "commit": "9f8e7d", "first": "retrain"}


@pytest.mark.parametrize(
    ("mapping", "problem"),
    [
        ({"repo": "repository.name"}, "repo: the body has no 'repository.name'"),
        ({"c": "commits.1.id"}, "c: the body has no 'commits.1.id'"),
        ({"c": "commits.x"}, "c: the body has no 'commits.x'"),
    ],
)
def test_a_path_the_body_lacks_is_named(mapping: dict[str, str], problem: str) -> None:
    with pytest.raises(Unmappable, match=problem):
        mapped(PUSH, mapping)


@pytest.mark.parametrize("body", [[1, 2], "text", 3, None])
def test_a_body_that_is_no_object_is_refused_without_a_mapping(body: object) -> None:
    with pytest.raises(Unmappable, match="expected a JSON object"):
        mapped(body, {})
