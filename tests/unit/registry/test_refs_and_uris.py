"""References and URIs: what parses, and what each refusal says."""

import pytest

from services.registry.domain.refs import Ref, RefError, check_alias, parse_ref
from shared.uris import UriError, parse_uri


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("iris", Ref("iris")),
        ("iris@latest", Ref("iris")),
        ("iris@3", Ref("iris", version=3)),
        ("clf@production", Ref("clf", alias="production")),
        ("Sales_2026.v2@12", Ref("Sales_2026.v2", version=12)),
    ],
)
def test_a_reference_names_the_latest_a_number_or_an_alias(text: str, ref: Ref) -> None:
    assert parse_ref(text) == ref


@pytest.mark.parametrize("text", ["", "@3", "iris@", "iris@0", "has space@1", "a/b", "iris@-1"])
def test_a_malformed_reference_is_refused(text: str) -> None:
    with pytest.raises(RefError):
        parse_ref(text)


@pytest.mark.parametrize("tail", ["\u00b9", "\u0663"])
def test_a_version_is_ascii_digits_and_a_superscript_digit_is_refused_by_name(tail: str) -> None:
    with pytest.raises(RefError, match="after @ comes a version number or an alias"):
        parse_ref(f"iris@{tail}")


def test_a_version_number_beyond_what_the_database_stores_is_refused() -> None:
    assert parse_ref("iris@2147483647") == Ref("iris", version=2147483647)
    with pytest.raises(RefError, match="a version number is from 1 to 2147483647"):
        parse_ref("iris@2147483648")


def test_latest_cannot_be_an_alias_name() -> None:
    with pytest.raises(RefError, match="not be 'latest'"):
        check_alias("latest")


@pytest.mark.parametrize(
    "uri",
    [
        "s3://bucket/iris/2026-11-26/",
        "hdfs://namenode:8020/data/iris",
        "gs://bucket/iris.csv",
        "file:///data/iris.csv",
        "https://example.com/iris.csv",
        "abfss://container@account.dfs.core.windows.net/iris",
    ],
)
def test_uris_of_the_usual_stores_parse(uri: str) -> None:
    assert parse_uri(uri).text == uri


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("", "empty or holds whitespace"),
        ("not a uri", "empty or holds whitespace"),
        ("iris.csv", "expected scheme://"),
        ("s3:bucket/key", "expected scheme://"),
        ("s3://", "s3:// needs a bucket or host"),
        ("https:///path", "https:// needs a bucket or host"),
        ("file://host/data", "file:// needs an absolute path"),
        ("http://[::1", "Invalid IPv6 URL"),
    ],
)
def test_an_unparseable_uri_says_why(uri: str, reason: str) -> None:
    with pytest.raises(UriError, match=reason.replace("(", r"\(")):
        parse_uri(uri)
