"""Hashing before a push counts bytes: one big file is most of the work, not 1 of N files."""

from pathlib import Path

from rich.progress import Progress

from boxops.artifacts import CHUNK, files_under, sha256_of


def test_hashing_progress_counts_bytes(tmp_path: Path) -> None:
    from boxops.cli.registry_files import hash_files

    (tmp_path / "big.bin").write_bytes(b"x" * (3 * CHUNK + 5))
    (tmp_path / "small.txt").write_bytes(b"abc")
    with Progress(disable=True) as bar:
        entries = hash_files(files_under(tmp_path), bar)
        [task] = bar.tasks
    assert task.description == "hashing"
    assert task.total == task.completed == 3 * CHUNK + 8
    assert {e.path: e.size for e in entries} == {"big.bin": 3 * CHUNK + 5, "small.txt": 3}


def test_a_big_file_reports_each_chunk_as_it_is_hashed(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (2 * CHUNK + 1))
    chunks: list[int] = []
    sha256_of(big, chunks.append)
    assert chunks == [CHUNK, CHUNK, 1]
