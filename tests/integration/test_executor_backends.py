"""What only one backend does: git provenance and memory caps of local runs; images,
network, users and removal of containers; the backends each executor offers."""

import json
import subprocess
from pathlib import Path

import aiodocker
import pytest
from nats.aio.msg import Msg

from services.executor.backends import Launch
from services.executor.backends.docker import DockerBackend
from services.executor.contract import Layout
from shared.events import Resources
from tests.conftest import eventually
from tests.integration.executor_harness import Harness, need_docker, start_harness


async def harness(backend: str, nats_url: str, home: Path, **settings: object) -> Harness:
    if backend == "docker":
        need_docker()
    return await start_harness(backend, nats_url, home, **settings)


async def stop(harness: Harness) -> None:
    await harness.service.stop()
    await harness.client.close()


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)
    return done.stdout.decode().strip()


async def test_a_command_from_a_git_checkout_records_its_code(
    nats_url: str, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / "src" / "train.sh").write_text("echo training\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", "https://example.invalid/team/model.git")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "first")
    commit = git(repo, "rev-parse", "HEAD")
    (repo / "src" / "train.sh").write_text("echo training harder\n")
    executor = await harness("local", nats_url, tmp_path / "home")
    try:
        run_id = await executor.dispatch(["sh", str(repo / "src" / "train.sh")])
        ended = await executor.ended(run_id)
        plain = await executor.dispatch(["sh", "-c", "echo no repo"])
        not_in_git = await executor.ended(plain)
    finally:
        await stop(executor)

    assert ended.provenance == {
        "repo": "https://example.invalid/team/model.git",
        "branch": "main",
        "commit": commit,
        "dirty": True,
        "path": "src",
    }
    assert not_in_git.provenance == {}


async def test_a_local_run_over_its_memory_cap_fails(nats_url: str, tmp_path: Path) -> None:
    executor = await harness("local", nats_url, tmp_path / "home", local_rlimit_memory=True)
    try:
        grab = ["python3", "-c", "b = bytearray(400 * 1024 * 1024); print('got it')"]
        run_id = await executor.dispatch(grab, resources=Resources(memory_mb=200))
        ended = await executor.ended(run_id)
        small = await executor.dispatch(grab, resources=Resources(memory_mb=1024))
        fits = await executor.ended(small)
    finally:
        await stop(executor)

    assert ended.exit_code == 1
    assert "MemoryError" in ended.stderr_tail
    assert fits.exit_code == 0


async def test_each_executor_says_which_backends_it_offers(nats_url: str, tmp_path: Path) -> None:
    need_docker()
    with_docker = await harness("local", nats_url, tmp_path / "a")
    without = await harness("local", nats_url, tmp_path / "b", executor_id="ex-plain", docker=False)
    try:
        assert await _backends(with_docker) == ["docker", "local"]
        assert await _backends(without) == ["local"]
        run_id = await without.dispatch(["true"], backend="docker", image="boxops-test/busybox")
        ended = await without.ended(run_id)
    finally:
        await stop(with_docker)
        await stop(without)

    assert ended.reason == "backend 'docker' not offered here (only local)"


async def test_a_machine_without_docker_offers_the_local_backend_only(
    nats_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No daemon where DOCKER_HOST points (no socket there at all): the executor still starts."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'docker.sock'}")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no Docker context to prefer
    assert await DockerBackend.connect() is None

    plain = await harness("local", nats_url, tmp_path / "a", executor_id="ex-no-docker")
    try:
        assert await _backends(plain) == ["local"]
    finally:
        await stop(plain)


async def _backends(harness: Harness) -> list[str]:
    """The backends in the executor's latest heartbeat."""
    seen: list[str] = []

    async def on_beat(msg: Msg) -> None:
        body = json.loads(msg.data)
        if body["executor_id"] == harness.settings.executor_id:
            seen[:] = body["backends"]

    subscription = await harness.client.subscribe("executor.heartbeat", cb=on_beat)
    await eventually(lambda: _some(seen), timeout=5)
    await subscription.unsubscribe()
    return seen


async def _some(values: list[str]) -> bool:
    return bool(values)


async def test_a_missing_image_fails_with_a_clear_reason(nats_url: str, tmp_path: Path) -> None:
    executor = await harness("docker", nats_url, tmp_path / "home")
    try:
        run_id = await executor.dispatch(["true"], image="boxops-test/no-such-image:1")
        ended = await executor.ended(run_id)
        after = await executor.dispatch(["echo", "fine"])
        still = await executor.ended(after)
    finally:
        await stop(executor)

    assert ended.exit_code is None
    assert ended.reason.startswith("image 'boxops-test/no-such-image:1' not found on this executor")
    assert still.exit_code == 0


async def test_containers_have_no_network_and_can_run_as_a_user(
    nats_url: str, tmp_path: Path
) -> None:
    executor = await harness("docker", nats_url, tmp_path / "home", docker_user="65534:65534")
    try:
        script = 'ls /sys/class/net; id -u; echo out > "$BOXOPS_OUTPUTS/report/r.txt" && echo wrote'
        run_id = await executor.dispatch(["sh", "-c", script], outputs={"report": "file"})
        ended = await executor.ended(run_id)
    finally:
        await stop(executor)

    assert executor.output(run_id) == ["lo", "65534", "wrote"]
    assert ended.exit_code is None  # written, but no artifact store to upload it to
    assert "no artifact store" in ended.reason


async def test_a_container_runs_unprivileged_read_only_and_with_a_pids_limit(
    nats_url: str, tmp_path: Path
) -> None:
    executor = await harness("docker", nats_url, tmp_path / "home")  # the default user
    script = (
        "id -u; grep Cap /proc/self/status; touch /x 2>&- || echo root-read-only;"
        'echo t > /tmp/t && echo tmp-writable; echo w > "$BOXOPS_WORKDIR/w" && echo work-writable;'
        "cat /sys/fs/cgroup/pids.max 2>&- || cat /sys/fs/cgroup/pids/pids.max"  # cgroup v2 or v1
    )
    try:
        run_id = await executor.dispatch(["sh", "-c", script], resources=Resources(pids=64))
        ended = await executor.ended(run_id)
    finally:
        await stop(executor)

    out = executor.output(run_id)
    assert out[0] == "65534"
    caps = {line.split(":")[0]: line.split()[1] for line in out if line.startswith("Cap")}
    assert caps == dict.fromkeys(["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"], "0" * 16)
    assert out[6:] == ["root-read-only", "tmp-writable", "work-writable", "64"]
    assert ended.exit_code == 0


async def test_containers_are_removed_after_the_run(nats_url: str, tmp_path: Path) -> None:
    executor = await harness("docker", nats_url, tmp_path / "home")
    try:
        ok = await executor.dispatch(["echo", "hi"])
        slow = await executor.dispatch(["sleep", "60"])
        await executor.ended(ok)
        await executor.started(slow)
        await executor.stop(slow, grace_s=1)
        await executor.ended(slow)
    finally:
        await stop(executor)

    async with aiodocker.Docker() as docker:
        left = await docker.containers.list(all=True, filters={"label": ["boxops.run"]})
        runs = [c["Labels"].get("boxops.run") for c in [x._container for x in left]]
    assert ok not in runs
    assert slow not in runs


def test_the_container_config_asks_for_limits_gpus_and_no_privileges(tmp_path: Path) -> None:
    backend = DockerBackend.__new__(DockerBackend)
    backend.user = ""
    launch = Launch(
        run_id="r1",
        command=["train"],
        env={"A": "1"},
        host=Layout(tmp_path),
        resources=Resources(cpu=1.5, memory_mb=256, gpu=2, pids=100),
        image="trainer:1",
        mounts={"lake": Path("/data/lake")},
        devices=("1", "3"),
    )
    config = backend.config(launch)
    host = config["HostConfig"]

    assert (config["Image"], config["Cmd"]) == ("trainer:1", ["train"])
    assert config["Env"] == ["HOME=/tmp", "A=1"]
    assert host["NetworkMode"] == "none"
    assert host["Privileged"] is False
    assert (host["CapDrop"], host["ReadonlyRootfs"], host["PidsLimit"]) == (["ALL"], True, 100)
    assert host["NanoCpus"] == 1_500_000_000
    assert host["Memory"] == 256 * 1024 * 1024
    # Its own devices, by id, as the executor's ledger assigned them: not any two.
    gpus = {"Driver": "", "DeviceIDs": ["1", "3"], "Capabilities": [["gpu"]]}
    assert host["DeviceRequests"] == [gpus]
    assert f"{tmp_path}/inputs:/boxops/inputs:ro" in host["Binds"]
    assert f"{tmp_path}/outputs:/boxops/outputs:rw" in host["Binds"]
    assert "/data/lake:/boxops/inputs/lake:ro" in host["Binds"]
    with_network = backend.config(Launch(**{**launch.__dict__, "network": True}))
    assert with_network["HostConfig"]["NetworkMode"] != "none"
