"""Manifests: digest, checks, and what changed between versions."""

import pytest

from services.registry.domain.manifests import (
    ManifestError,
    changes,
    check,
    diff,
    digest,
    guess_type,
    signatures,
    summary,
)
from services.registry.domain.versions import drift, identity, next_version
from shared.events import FileEntry


def entry(path: str, content: str = "a", size: int = 1) -> FileEntry:
    return FileEntry(path=path, size=size, sha256=(content * 64)[:64])


def test_the_digest_depends_on_the_files_not_their_order() -> None:
    files = [entry("b.csv", "b"), entry("a.csv", "a")]
    assert digest(files) == digest(list(reversed(files)))
    assert digest(files) != digest([entry("b.csv", "c"), entry("a.csv", "a")])
    assert digest(files).startswith("sha256:")


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/etc/passwd", "must be relative"),
        ("a/../b", "must be relative"),
        ("../up", "points outside"),
        ("a\\b", "must be relative"),
        ("./a", "must be relative"),
    ],
)
def test_a_manifest_refuses_paths_that_escape_or_are_not_normal(path: str, problem: str) -> None:
    with pytest.raises(ManifestError, match=problem):
        check([entry(path)])


@pytest.mark.parametrize("path", ["a\nb.csv", "a\x00b", "tab\there", "del\x7f"])
def test_a_manifest_refuses_a_path_with_a_control_character(path: str) -> None:
    with pytest.raises(ManifestError, match="holds a control character"):
        check([entry(path)])


def test_a_manifest_refuses_a_file_name_longer_than_255_bytes() -> None:
    assert check([entry("d/" + "é" * 127 + "x")])  # 255 bytes
    with pytest.raises(ManifestError, match="is longer than 255 bytes"):
        check([entry("d/" + "é" * 128)])
    with pytest.raises(ManifestError, match="is longer than 255 bytes"):
        check([entry("x" * 256 + "/a.csv")])


def test_a_manifest_refuses_a_path_twice() -> None:
    with pytest.raises(ManifestError, match="appears twice"):
        check([entry("a"), entry("a", "b")])


def test_diff_names_added_removed_and_modified_paths() -> None:
    before = {"a": "1", "b": "1", "c": "1"}
    after = {"a": "1", "b": "2", "d": "1"}
    assert diff(before, after) == (["d"], ["c"], ["b"])


def test_changes_count_everything_but_list_at_most_a_hundred_paths() -> None:
    before = signatures([entry(f"old{i}") for i in range(150)])
    after = signatures([entry(f"new{i}") for i in range(120)])
    found = changes(before, after, {"bytes": 150, "rows": 10}, {"bytes": 120, "rows": 25})
    assert (found.files_added, found.files_removed, found.files_modified) == (120, 150, 0)
    assert len(found.added) == 100 and len(found.removed) == 100
    assert (found.bytes_delta, found.rows_delta) == (-30, 15)


def test_without_listings_only_the_deltas_are_known() -> None:
    found = changes(None, None, {"rows": 5}, {"rows": 7})
    assert found.files_added is None and found.rows_delta == 2 and found.bytes_delta is None


def test_listings_signed_differently_are_not_compared_file_by_file() -> None:
    hashed = signatures([entry("iris.csv"), entry("a.csv", "b"), entry("b.csv", "c")])
    s3 = {"iris.csv": "12:0cc175b9c0f1b6a831c399e269772661"}
    found = changes(hashed, s3, {"bytes": 3}, {"bytes": 12})
    assert (found.files_added, found.files_removed, found.files_modified) == (None, None, None)
    assert found.bytes_delta == 9
    same = changes(hashed, signatures([entry("iris.csv")]), {}, {})
    assert (same.files_removed, same.files_modified) == (2, 0)


def test_summary_counts_files_and_bytes() -> None:
    assert summary([entry("a", size=3), entry("b", size=4)]) == {"files": 2, "bytes": 7}


def test_the_type_is_guessed_from_columns_or_file_suffixes() -> None:
    assert guess_type(["x.bin"], {"columns": [{"name": "a"}]}) == "table"
    assert guess_type(["a.png", "b.jpg", "labels.csv"], {}) == "image"
    assert guess_type(["a.bin"], {}) == "other"


def test_versions_count_from_one() -> None:
    assert next_version(None) == 1 and next_version(7) == 8


def test_identity_prefers_the_digest_then_the_pin_then_the_uri() -> None:
    assert identity(digest="sha256:x", pin={"fingerprint": "f"}, uri="s3://b/k") == "sha256:x"
    assert identity(digest=None, pin={"fingerprint": "f"}, uri="s3://b/k") == "s3://b/k#f"
    assert identity(digest=None, pin={"kind": "none"}, uri="s3://b/k") == "s3://b/k"


def test_drift_names_what_changed_and_ignores_what_says_nothing_about_content() -> None:
    pinned = {"kind": "file", "size": 3, "sha256": "a", "fingerprint": "a", "checked_at": "t1"}
    assert drift(pinned, {**pinned, "checked_at": "t2"}).status == "ok"
    assert drift({**pinned, "mtime_ns": 1}, {**pinned, "mtime_ns": 2}).status == "ok"  # touched
    moved = drift(pinned, {**pinned, "size": 4, "sha256": "b", "fingerprint": "b"})
    assert moved.status == "drift"
    assert "size: 3 → 4" in moved.differences
    listed = {"kind": "dir", "listing": {"a": "1", "b": "1"}, "fingerprint": "x"}
    changed = drift(listed, {"kind": "dir", "listing": {"a": "2", "c": "1"}, "fingerprint": "y"})
    assert {"added c", "removed b", "modified a"} <= set(changed.differences)


def test_drift_of_unpinned_or_unreachable_data_says_so() -> None:
    assert drift({"kind": "none", "note": "no"}, {"kind": "none"}).status == "unpinned"
    gone = drift({"kind": "file", "size": 1}, {"kind": "unreachable", "note": "missing"})
    assert gone.status == "unreachable" and gone.differences == ["missing"]
