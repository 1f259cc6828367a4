"""External file:// data: only under the declared roots, hashed in the background within a
size and time budget, a declared digest checked; nothing of a refused file is exposed."""

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from services.registry.settings import RegistrySettings
from tests.conftest import eventually
from tests.integration.registry.conftest import Registry, start_registry, stop_registry

SECRET = b"root:$6$salt$hash:20000:0:99999:7:::\n"


async def link(registry: Registry, name: str, **body: Any) -> tuple[int, dict[str, Any]]:
    response = await registry.http.post(f"/v1/datasets/{name}/versions", json=body)
    return response.status_code, response.json()


def secret_outside(registry: Registry) -> Path:
    """A shadow-like file beside the lake, not under it."""
    secret = registry.lake.parent / "etc" / "shadow"
    secret.parent.mkdir(exist_ok=True)
    secret.write_bytes(SECRET)
    return secret


def big(path: Path, size: int) -> Path:
    """A sparse file: as long to hash as a real one of that size, but taking no disk."""
    with path.open("wb") as handle:
        handle.truncate(size)
    return path


async def budgeted(nats_url: str, db: tuple[str, str], tmp_path: Path, **limits: Any) -> Registry:
    lake = tmp_path / "lake"
    lake.mkdir(exist_ok=True)
    settings = RegistrySettings(
        nats_url=nats_url,
        home=tmp_path / "home",
        db_url=db[0],
        db_schema=db[1],
        external_file_roots=[lake],
        **limits,
    )
    return await start_registry(nats_url, db, tmp_path / "home", settings)


async def test_a_file_outside_the_roots_is_refused_and_nothing_of_it_is_exposed(
    registry: Registry,
) -> None:
    secret = secret_outside(registry)
    link_in_lake = registry.lake / "innocent.csv"
    link_in_lake.symlink_to(secret)
    climbing = f"file://{registry.lake}/../etc/shadow"
    for uri in (secret.as_uri(), link_in_lake.as_uri(), climbing):
        status, refused = await link(registry, "leak", uri=uri)
        assert (status, refused["detail"]) == (
            422,
            f"{uri}: outside the external file roots ({registry.lake.resolve()})",
        )
    assert (await registry.http.get("/v1/datasets/leak")).status_code == 404

    await registry.publish("dataset.version.created", {"dataset": "leak", "uri": secret.as_uri()})
    [letter] = await registry.dead_letters(1)
    assert letter.headers["boxops-dlq-reason"] == (
        f"{secret.as_uri()}: outside the external file roots ({registry.lake.resolve()})"
    )

    folder = registry.lake / "tables"  # a folder under the root holding a link out of it
    folder.mkdir()
    (folder / "ok.csv").write_text("a\n1\n")
    (folder / "shadow").symlink_to(secret)
    status, _ = await link(registry, "leak", uri=folder.as_uri())
    failed = await registry.settled("leak", 1)
    assert (status, failed["state"]) == (201, "failed")
    assert (
        failed["state_reason"] == f"{folder.as_uri()}: shadow links outside the external file roots"
    )
    shown = str(failed)
    secret_sha = hashlib.sha256(SECRET).hexdigest()
    assert secret_sha not in shown and str(len(SECRET)) not in str(failed["pin"])
    assert failed["pin"] == {} and failed["metadata"] == {}
    announced = [e for e in await registry.events("dataset.version.created") if "version" in e]
    assert announced == []  # a failed version is never announced


async def test_without_declared_roots_no_file_data_is_accepted(
    nats_url: str, db: tuple[str, str], tmp_path: Path
) -> None:
    settings = RegistrySettings(
        nats_url=nats_url, home=tmp_path / "home", db_url=db[0], db_schema=db[1]
    )
    registry = await start_registry(nats_url, db, tmp_path / "home", settings)
    try:
        data = tmp_path / "iris.csv"
        data.write_text("a\n1\n")
        status, refused = await link(registry, "iris", uri=data.as_uri())
        assert (status, refused["detail"]) == (
            422,
            f"{data.as_uri()}: file:// data is not accepted here "
            "(no BOXOPS_EXTERNAL_FILE_ROOTS are declared)",
        )
    finally:
        await stop_registry(registry)


@pytest.fixture
async def roomy(nats_url: str, db: tuple[str, str], tmp_path: Path) -> AsyncIterator[Registry]:
    running = await budgeted(nats_url, db, tmp_path, pins_at_once=2, pin_max_bytes=1024**5)
    yield running
    await stop_registry(running)


async def test_a_huge_uri_being_hashed_delays_no_other_version(roomy: Registry) -> None:
    huge = roomy.lake / "huge"
    huge.mkdir()
    big(huge / "part-0.bin", 64 * 1024**3)  # minutes of hashing on any machine
    await roomy.publish("dataset.version.created", {"dataset": "huge", "uri": huge.as_uri()})
    await eventually(lambda: _state(roomy, "huge", 1, "pinning"))

    small = roomy.lake / "small.csv"
    small.write_text("a,b\n1,2\n")
    await roomy.publish("dataset.version.created", {"dataset": "small", "uri": small.as_uri()})
    await roomy.publish("dataset.version.created", {"dataset": "remote", "uri": "s3://b/k"})
    assert (await roomy.settled("small", 1))["state"] == "pinned"
    assert await eventually(lambda: _state(roomy, "remote", 1, "pinned"))
    still = (await roomy.http.get("/v1/datasets/huge/versions/1")).json()
    assert still["state"] == "pinning"  # the huge one is still being hashed meanwhile
    events = await roomy.events("dataset.version.created")
    announced = {e["dataset"] for e in events if "version" in e}
    assert announced == {"small", "remote"}


async def _state(registry: Registry, name: str, version: int, state: str) -> bool:
    response = await registry.http.get(f"/v1/datasets/{name}/versions/{version}")
    return response.status_code == 200 and response.json()["state"] == state


async def test_data_over_the_size_or_time_budget_fails_saying_which(
    nats_url: str, db: tuple[str, str], tmp_path: Path
) -> None:
    registry = await budgeted(nats_url, db, tmp_path, pin_max_bytes=8 * 1024**3, pin_max_s=0.5)
    try:
        too_big = big(registry.lake / "too-big.bin", 8 * 1024**3 + 1)
        status, _ = await link(registry, "big", uri=too_big.as_uri())
        failed = await registry.settled("big", 1)
        assert (status, failed["state"], failed["state_reason"]) == (
            201,
            "failed",
            f"{too_big.as_uri()}: more than the {8 * 1024**3}-byte budget to hash",
        )
        slow = big(registry.lake / "slow.bin", 8 * 1024**3)  # within the size budget
        await link(registry, "slow", uri=slow.as_uri())
        timed_out = await registry.settled("slow", 1)
        assert timed_out["state_reason"] == f"{slow.as_uri()}: not hashed within the 0.5 s budget"
        verified = (await registry.http.post("/v1/datasets/slow/versions/1/verify")).json()
        assert (verified["status"], verified["differences"]) == (
            "failed",
            [timed_out["state_reason"]],
        )
    finally:
        await stop_registry(registry)


async def test_a_version_still_pinning_when_the_registry_stops_is_hashed_after_a_restart(
    nats_url: str, db: tuple[str, str], tmp_path: Path
) -> None:
    registry = await budgeted(nats_url, db, tmp_path, pin_max_bytes=1024**5)
    data = big(registry.lake / "data.bin", 64 * 1024**3)
    status, pending = await link(registry, "resumed", uri=data.as_uri())
    assert (status, pending["state"]) == (201, "pinning")
    await stop_registry(registry)  # the hashing thread is told to stop: it does not hold this up
    data.unlink()
    data.write_bytes(b"small now")
    registry = await budgeted(nats_url, db, tmp_path, pin_max_bytes=1024**5)
    try:
        resumed = await registry.settled("resumed", 1)
        assert (resumed["state"], resumed["digest"]) == (
            "pinned",
            "sha256:" + hashlib.sha256(b"small now").hexdigest(),
        )
    finally:
        await stop_registry(registry)


async def test_a_declared_digest_is_checked_and_changes_compare_the_data_itself(
    registry: Registry,
) -> None:
    rows = b"sepal,petal\n5.1,1.4\n"
    made_up = "sha256:" + "0" * 64
    data = registry.lake / "iris" / "iris.csv"
    data.parent.mkdir()
    data.write_bytes(rows)
    event = {"dataset": "iris", "uri": data.as_uri(), "digest": made_up}
    await registry.publish("dataset.version.created", event)
    wrong = await registry.settled("iris", 1)
    actual = "sha256:" + hashlib.sha256(rows).hexdigest()
    assert (wrong["state"], wrong["state_reason"]) == (
        "failed",
        f"digest mismatch: declared {made_up}, the data has {actual}",
    )
    verified = (await registry.http.post("/v1/datasets/iris/versions/1/verify")).json()
    assert verified["status"] == "failed"  # not "ok"

    await registry.publish("dataset.version.created", {**event, "digest": actual})
    right = await registry.settled("iris", 2)
    assert (right["state"], right["digest"]) == ("pinned", actual)
    verified = (await registry.http.post("/v1/datasets/iris/versions/2/verify")).json()
    assert verified["status"] == "ok"

    # A managed version of three files, then the folder holding one of them, byte-identical.
    shas = await registry.stored(rows, b"x", b"y")
    files = [
        {"path": path, "size": 1, "sha256": sha}
        for path, sha in zip(("iris.csv", "a.csv", "b.csv"), shas, strict=True)
    ]
    assert (await link(registry, "mixed", files=files))[0] == 201
    await link(registry, "mixed", uri=data.parent.as_uri())
    folder = await registry.settled("mixed", 2)
    changes = folder["changes"]
    assert (changes["files_removed"], changes["files_modified"], changes["files_added"]) == (
        2,
        0,
        0,
    )


def test_roots_are_read_from_the_environment_like_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOXOPS_EXTERNAL_FILE_ROOTS", os.pathsep.join(["/data", "/srv/lake"]))
    assert RegistrySettings().external_file_roots == [Path("/data"), Path("/srv/lake")]
    monkeypatch.setenv("BOXOPS_EXTERNAL_FILE_ROOTS", "data")
    with pytest.raises(ValueError, match="must be absolute paths: data"):
        RegistrySettings()


async def test_a_run_cannot_take_a_failed_or_pinning_version_as_its_input(
    registry: Registry,
) -> None:
    from services.scheduler.plan import PlanError
    from services.scheduler.resolver import Registry as SchedulersRegistry

    made_up = "sha256:" + "0" * 64
    data = registry.lake / "iris.csv"
    data.write_text("a\n1\n")
    await link(registry, "iris", uri=data.as_uri(), digest=made_up)
    failed = await registry.settled("iris", 1)
    asking = SchedulersRegistry(registry.bus.broker)
    with pytest.raises(PlanError) as refused:
        await asking.input("dataset", "iris@1")
    assert str(refused.value) == f"dataset iris@1 is failed: {failed['state_reason']}"
    await link(registry, "iris", uri=data.as_uri())
    await registry.settled("iris", 2)
    found = await asking.input("dataset", "iris")  # the latest pinned one
    assert (found.version, found.uri) == (2, data.as_uri())
