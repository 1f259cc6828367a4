"""`boxops datasets push` to a full store: one line naming the file and the store's
state, exit 2, no version recorded, nothing left staged; the next small push goes in
(issue 17 #5)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.artifact.support import write_random
from tests.integration.registry.test_registry_cli import Served, served  # noqa: F401
from tests.integration.tmpfs import small_tmpfs

MiB = 1024**2


@pytest.fixture
def full_blobs(tmp_path: Path) -> Iterator[Path]:
    """The served stack's blob store (tmp_path/blobs) on a 5 MiB disk; before `served`."""
    with small_tmpfs(tmp_path / "blobs") as folder:
        yield folder


async def test_a_push_to_a_full_store_says_so_and_leaves_nothing(
    full_blobs: Path,
    served: Served,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    big = tmp_path / "big"
    big.mkdir()
    for n in range(1, 5):
        write_random(big / f"f{n}.bin", 2 * MiB, seed=n)

    refused = await served.boxops("datasets", "push", "big", str(big), "--json", ok=False)

    assert refused.returncode == 2, refused.stdout + refused.stderr
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith(f"upload failed: {big}/f"), line
    assert ": 507: blob store full (" in line and "MiB free of 5.0 MiB)" in line, line
    assert [p for p in (full_blobs / "staging").iterdir()] == []
    listed = await served.json("datasets", "list")
    assert [d["name"] for d in listed] == []  # no version, not even the dataset, recorded

    small = tmp_path / "small"
    small.mkdir()
    write_random(small / "s.bin", 300 * 1024)
    pushed = await served.json("datasets", "push", "small", str(small))
    assert pushed["version"] == 1, pushed
