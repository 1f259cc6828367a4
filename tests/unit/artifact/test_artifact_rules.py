"""The artifact service's pure rules: uploads, parts, digests, signed URLs, preview kinds."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from boxops.artifacts import ArtifactError, files_under
from services.artifact import domain, signing
from services.artifact.domain import Refused
from services.artifact.previews.kinds import kind_of
from shared.artifacts import BlobSpec, ConfusionMatrix, Curve, PartDone

NOW = datetime(2026, 1, 1, tzinfo=UTC)
MiB = 1024**2


def upload(size: int = 10, sha256: str | None = None) -> domain.Upload:
    spec = BlobSpec(size=size, sha256=sha256)
    return domain.new_upload(spec, id="u" * 32, now=NOW, ttl_s=60, limit=100, part_bytes=5 * MiB)


def test_an_upload_over_the_limit_is_refused_with_413() -> None:
    with pytest.raises(Refused, match="over the limit of 100 bytes") as refused:
        upload(size=101)
    assert refused.value.status == 413


def test_an_upload_expires_after_its_time() -> None:
    made = upload()
    assert not domain.expired(made, NOW + timedelta(seconds=59))
    assert domain.expired(made, NOW + timedelta(seconds=60))


def test_parts_cover_every_byte_once() -> None:
    for size in (0, 1, 5 * MiB, 5 * MiB + 1, 23 * MiB + 7):
        parts = domain.parts(size, 5 * MiB)
        assert [p.number for p in parts] == list(range(1, len(parts) + 1))
        assert sum(p.size for p in parts) == size
        assert all(p.offset == i * 5 * MiB for i, p in enumerate(parts))


def test_huge_blobs_get_bigger_parts_so_the_list_stays_short() -> None:
    assert domain.part_size(10 * MiB, 64 * MiB) == 64 * MiB
    size = domain.part_size(1024**4, 64 * MiB)
    assert size % MiB == 0 and len(domain.parts(1024**4, size)) <= domain.MAX_PARTS


def test_the_digest_is_declared_at_reserve_or_commit_and_must_agree() -> None:
    a, b = "a" * 64, "b" * 64
    assert domain.declared_digest(upload(sha256=a), None) == a
    assert domain.declared_digest(upload(), b) == b
    assert domain.declared_digest(upload(sha256=a), a) == a
    with pytest.raises(Refused, match="reserved for"):
        domain.declared_digest(upload(sha256=a), b)
    with pytest.raises(Refused, match="sha256 missing"):
        domain.declared_digest(upload(), None)


def test_received_bytes_must_match_in_size_and_digest() -> None:
    a, b = "a" * 64, "b" * 64
    domain.check_received(a, 10, a, 10)
    with pytest.raises(Refused, match="truncated: received 9 of 10"):
        domain.check_received(a, 10, a, 9)
    with pytest.raises(Refused, match="longer than declared"):
        domain.check_received(a, 10, a, 11)
    with pytest.raises(Refused, match=f"sha256 mismatch: declared {a}"):
        domain.check_received(a, 10, b, 10)


def test_a_commit_must_list_every_part_once() -> None:
    parts = domain.parts(12 * MiB, 5 * MiB)
    done = [PartDone(number=n, etag=f"e{n}") for n in (3, 1, 2)]
    assert [p.number for p in domain.check_parts(done, parts)] == [1, 2, 3]
    for wrong in ([1, 2], [1, 2, 2], [1, 2, 3, 4]):
        with pytest.raises(Refused, match=r"the upload has parts 1\.\.3"):
            domain.check_parts([PartDone(number=n, etag="e") for n in wrong], parts)


def test_signed_urls_hold_only_for_their_method_path_and_time() -> None:
    secret = b"s"
    url = signing.signed_url("http://h", secret, "PUT", "/uploads/x", expires=100)
    query = dict(p.split("=") for p in url.split("?")[1].split("&"))
    ok = {"expires": query["expires"], "given": query["signature"]}
    assert signing.valid(secret, "PUT", "/uploads/x", **ok, now=99) is None
    assert signing.valid(secret, "PUT", "/uploads/x", **ok, now=101) == (
        "URL expired: ask the artifact service for a new one"
    )
    assert signing.valid(secret, "GET", "/uploads/x", **ok, now=99) == "bad signature"
    assert signing.valid(secret, "PUT", "/uploads/y", **ok, now=99) == "bad signature"
    assert signing.valid(b"other", "PUT", "/uploads/x", **ok, now=99) == "bad signature"
    assert "unsigned" in str(signing.valid(secret, "PUT", "/x", None, None, now=0))


def test_preview_kinds_come_from_media_type_then_name() -> None:
    assert kind_of("t.csv", None) == "dataframe"
    assert kind_of("x.PARQUET", None) == "dataframe"
    assert kind_of("a.npz", None) == "array"
    assert kind_of("cm.json", None) == "json"
    assert kind_of("p.jpeg", None) == "image"
    assert kind_of("blob", "image/webp") == "image"
    assert kind_of("x.bin", "application/vnd.boxops.curve+json") == "json"
    assert kind_of("weights.bin", None) is None
    assert kind_of(None, None) is None


def test_visualisations_check_their_shape() -> None:
    ConfusionMatrix(labels=["a", "b"], matrix=[[1, 0], [2, 3]])
    with pytest.raises(ValueError, match="2 by 2"):
        ConfusionMatrix(labels=["a", "b"], matrix=[[1, 0, 1], [2, 3]])
    with pytest.raises(ValueError, match="x has 2 points and y 1"):
        Curve(x=[0, 1], y=[0])


def test_pushing_a_directory_refuses_symlinks_before_sending_anything(tmp_path: Path) -> None:
    (tmp_path / "data" / "sub").mkdir(parents=True)
    (tmp_path / "data" / "a.csv").write_text("x\n1\n")
    (tmp_path / "data" / "sub" / "b.csv").write_text("x\n2\n")
    assert [f.name for f in files_under(tmp_path / "data")] == ["a.csv", "sub/b.csv"]
    (tmp_path / "data" / "sub" / "passwd").symlink_to("/etc/passwd")
    with pytest.raises(ArtifactError, match="symbolic link"):
        files_under(tmp_path / "data")
    (tmp_path / "data" / "sub" / "passwd").unlink()
    (tmp_path / "data" / "escape").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(ArtifactError, match="symbolic link"):
        files_under(tmp_path / "data")


def test_a_full_store_is_a_507_saying_how_much_is_free() -> None:
    refusal = domain.store_full(free_bytes=MiB // 2, total_bytes=5 * MiB)

    assert (refusal.status, refusal.message) == (507, "blob store full (0.5 MiB free of 5.0 MiB)")


def test_a_read_only_store_is_a_503_the_client_may_try_again() -> None:
    refusal = domain.store_read_only()

    assert isinstance(refusal, domain.Unavailable)
    assert (refusal.status, refusal.message) == (503, "blob store read-only")
