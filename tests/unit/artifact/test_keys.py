"""Keys and names can never leave the store's root, whatever they are made of."""

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.artifact.backends.files import FileStore
from services.artifact.domain import Refused
from shared.artifacts import (
    BadKey,
    blob_key,
    check_digest,
    check_key,
    preview_key,
    run_logs_key,
    staging_key,
)

SEGMENT = st.text(min_size=0, max_size=20) | st.sampled_from(["..", ".", "", "~", "\\", "\x00"])
PATHLIKE = st.lists(SEGMENT, max_size=6).map("/".join)
KEYS = st.text(max_size=300) | PATHLIKE | PATHLIKE.map(lambda k: "/" + k)


@given(KEYS)
@settings(max_examples=2000)
def test_an_accepted_key_never_climbs_out(key: str) -> None:
    try:
        checked = check_key(key)
    except BadKey as err:
        assert str(err)  # every refusal says why
        return
    parts = checked.split("/")
    assert ".." not in parts and "." not in parts and "" not in parts
    assert not checked.startswith("/") and "\\" not in checked and "\x00" not in checked
    root = Path("/store/root")
    assert os.path.normpath(root / checked).startswith(str(root) + "/")


@given(key=KEYS)
@settings(max_examples=300, deadline=None)
def test_the_file_store_resolves_keys_inside_its_root_or_refuses_them(
    key: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.getbasetemp() / "store"
    store = FileStore(root)
    try:
        path = store.path(key)
    except (BadKey, Refused):
        return
    assert path.resolve().is_relative_to(root.resolve())


def test_a_symlink_inside_the_store_cannot_lead_out(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "store")
    (tmp_path / "store" / "blobs").mkdir(parents=True)
    (tmp_path / "store" / "blobs" / "sha256").symlink_to(tmp_path)
    with pytest.raises(Refused, match="leaves the store's root"):
        store.path(blob_key("a" * 64))


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "empty"),
        ("../x", "could leave its root"),
        ("a/./b", "could leave its root"),
        ("a/", "empty part"),
        ("/abs", "absolute path"),
        ("C:\\x", "backslash"),
        ("a\x00", "NUL"),
        ("a\nb", "control character"),
        ("\ud800", "not valid UTF-8"),
        ("é" * 200, "longer than 255 bytes"),
        ("a/" * 600 + "a", "limit is 1024"),
    ],
)
def test_bad_keys_are_refused_with_the_reason(key: str, problem: str) -> None:
    with pytest.raises(BadKey, match=problem):
        check_key(key)


def test_good_keys_pass_unchanged() -> None:
    for key in ("a", "data/train.csv", "runs/abc/logs.jsonl", "é/ü.txt", "a b/c~d.txt"):
        assert check_key(key) == key


def test_the_key_scheme_fans_blobs_out_by_their_digest() -> None:
    digest = "ab" + "cd" + "e" * 60
    assert blob_key(digest) == f"blobs/sha256/ab/{digest}"
    assert preview_key(digest) == f"previews/sha256/ab/{digest}.json"
    assert staging_key("0" * 32) == f"staging/{'0' * 32}"
    assert run_logs_key("r1") == "runs/r1/logs.jsonl"
    with pytest.raises(BadKey):
        staging_key("../x")
    with pytest.raises(BadKey, match="could leave its root"):
        run_logs_key("..")


def test_digests_are_64_lowercase_hex_digits() -> None:
    assert check_digest("sha256:" + "a" * 64) == "a" * 64
    for bad in ("A" * 64, "a" * 63, "g" * 64, "", "../" + "a" * 61):
        with pytest.raises(BadKey, match="not a sha256"):
            check_digest(bad)
