"""Local runs in their bubblewrap sandbox (the real bwrap): they do not see the platform's
files or other runs, write only their own dirs, and stop, exit and die as without it."""

import asyncio
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import eventually
from tests.integration.executor_harness import Harness, need_docker, start_harness

SECRETS = {"token": "admin-token-1", "run-token-secret": "signing-2", "stack.json": '{"pid": 3}'}


@pytest.fixture
async def sandboxed(nats_url: str, tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await start_harness("local", nats_url, tmp_path / "home", docker=False)
    yield harness
    await harness.service.stop()
    await harness.client.close()


@pytest.fixture
async def unsandboxed(nats_url: str, tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await start_harness(
        "local", nats_url, tmp_path / "plain", executor_id="ex-plain", docker=False,
        local_sandbox=False,
    )  # fmt: skip
    yield harness
    await harness.service.stop()
    await harness.client.close()


@pytest.fixture(name="harness", params=[True, False], ids=["sandboxed", "unsandboxed"])
async def harness_fixture(
    request: pytest.FixtureRequest, nats_url: str, tmp_path: Path
) -> AsyncIterator[Harness]:
    """A case that must go the same with the sandbox and without."""
    home = tmp_path / "home"
    harness = await start_harness(
        "local", nats_url, home, docker=False, local_sandbox=request.param
    )
    yield harness
    await harness.service.stop()
    await harness.client.close()


def write_secrets(home: Path) -> None:
    home.mkdir(exist_ok=True)
    for name, text in SECRETS.items():
        (home / name).write_text(text)
        (home / name).chmod(0o600)


def reading(home: Path) -> list[str]:
    """A run that tries each secret by its path and through its work dir's parents."""
    tries = [f"{home}/{name}" for name in SECRETS]
    tries += [f"$BOXOPS_WORKDIR/{'../' * depth}token" for depth in range(1, 9)]
    script = "".join(f'cat "{path}" 2>/dev/null && echo; ' for path in tries) + "echo tried"
    return ["sh", "-c", script]


async def test_a_local_run_cannot_read_the_token_the_run_token_secret_or_stack_json(
    sandboxed: Harness, unsandboxed: Harness
) -> None:
    write_secrets(sandboxed.home)
    write_secrets(unsandboxed.home)

    hidden = await sandboxed.dispatch(reading(sandboxed.home))
    await sandboxed.ended(hidden)
    # The same run without the sandbox reads them all: the check above can fail.
    shown = await unsandboxed.dispatch(reading(unsandboxed.home))
    await unsandboxed.ended(shown)

    assert sandboxed.output(hidden) == ["tried"]
    assert unsandboxed.output(shown) == [*SECRETS.values(), "tried"]


async def test_a_local_run_cannot_reach_the_docker_daemon(sandboxed: Harness) -> None:
    need_docker()  # a socket to hide
    script = "for s in /run/docker.sock /var/run/docker.sock; do [ -S $s ] && echo $s; done"
    script += "; echo checked"
    run_id = await sandboxed.dispatch(["sh", "-c", script])
    await sandboxed.ended(run_id)

    assert sandboxed.output(run_id) == ["checked"]


async def test_work_dirs_live_outside_home_in_a_private_directory(sandboxed: Harness) -> None:
    run_id = await sandboxed.dispatch(["true"])
    await sandboxed.ended(run_id)

    root = sandboxed.settings.work_dirs()
    assert sandboxed.workdir(run_id).parent.parent == root
    assert sandboxed.home not in root.parents
    assert root.stat().st_mode & 0o777 == 0o700


async def test_a_removed_work_root_is_made_private_again_and_an_open_one_is_refused(
    sandboxed: Harness,
) -> None:
    root = sandboxed.settings.work_dirs()
    shutil.rmtree(root)  # as a temp dir cleaner would
    again = await sandboxed.ended(await sandboxed.dispatch(["true"]))
    mode = root.stat().st_mode & 0o777
    root.chmod(0o755)
    refused = await sandboxed.ended(await sandboxed.dispatch(["true"]))

    assert (again.exit_code, mode) == (0, 0o700)
    assert refused.exit_code is None
    assert refused.reason.startswith(f"{root} must be a directory of uid")


async def test_a_local_run_sees_no_other_run(sandboxed: Harness) -> None:
    other = await sandboxed.dispatch(["sh", "-c", "echo mine > keep; echo ready; sleep 60"])
    await sandboxed.printed(other, "ready")
    root = sandboxed.settings.work_dirs()
    kept = root / other / "attempt-1" / "work" / "keep"
    assert kept.exists()

    looking = await sandboxed.dispatch(
        ["sh", "-c", f'ls "{root}"; cat "{kept}" 2>&- || echo unseen']
    )
    await sandboxed.ended(looking)
    await sandboxed.stop(other)
    await sandboxed.ended(other)

    assert sandboxed.output(looking) == [looking, "unseen"]


async def test_a_sandboxed_runs_temp_dir_is_its_own_tmp(sandboxed: Harness) -> None:
    assert os.environ["TMPDIR"] != "/tmp"  # the executor's own, which the run cannot write
    script = 'echo "$TMPDIR"; mktemp >/dev/null && echo made'
    run_id = await sandboxed.dispatch(["sh", "-c", script])
    await sandboxed.ended(run_id)

    assert sandboxed.output(run_id) == ["/tmp", "made"]


async def test_a_local_run_writes_only_its_own_dirs(sandboxed: Harness, tmp_path: Path) -> None:
    private = f"/tmp/boxops-private-{uuid.uuid4().hex}"  # the sandbox's own /tmp
    etc = f"/etc/boxops-{uuid.uuid4().hex}"
    script = (
        "exec 2>&-; "
        f'echo a > "{tmp_path}/outside"; '  # fails, or lands in its own /tmp: not the host's
        f'echo a > "{etc}" || echo refused-etc; '
        'echo b > "$BOXOPS_INPUTS/x" || echo refused-inputs; '
        f'echo c > "{private}" && echo own-tmp; '
        'echo d > "$BOXOPS_WORKDIR/kept" && echo own-work; '
        'echo e > "$BOXOPS_OUTPUTS/model/m.bin" && echo own-outputs'
    )
    run_id = await sandboxed.dispatch(["sh", "-c", script], outputs={"model": "model"})
    await sandboxed.ended(run_id)

    assert sandboxed.output(run_id) == [
        "refused-etc",
        "refused-inputs",
        "own-tmp",
        "own-work",
        "own-outputs",
    ]
    assert not (tmp_path / "outside").exists()
    assert not Path(etc).exists()  # noqa: ASYNC240
    assert not Path(private).exists()  # noqa: ASYNC240 (the sandbox's /tmp is not the host's)
    work = sandboxed.workdir(run_id)
    assert (work / "work" / "kept").read_text() == "d\n"


def processes_with(marker: str) -> list[int]:
    """Host pids whose command line holds marker."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue  # ended meanwhile
    return found


async def test_a_stop_kills_the_whole_tree_of_a_sandboxed_run(sandboxed: Harness) -> None:
    # One child in the run's group, one that left it (setsid): both die with the run.
    marker = f"{1000 + uuid.uuid4().int % 1000}.{os.getpid()}"
    script = f"sleep {marker} & setsid sleep {marker} & echo ready; wait"
    run_id = await sandboxed.dispatch(["sh", "-c", script])
    await sandboxed.printed(run_id, "ready")

    async def both_alive() -> bool:
        return len(processes_with(f"sleep\0{marker}")) == 2

    await eventually(both_alive)
    await sandboxed.stop(run_id, grace_s=1)
    ended = await sandboxed.ended(run_id)

    async def none_left() -> bool:
        return not processes_with(f"sleep\0{marker}")

    await eventually(none_left)
    assert ended.reason == "aborted by user"


async def test_a_stop_lets_the_run_end_gracefully_as_without_the_sandbox(harness: Harness) -> None:
    script = "trap 'echo saving; exit 3' TERM; echo ready; sleep 60 & wait"
    run_id = await harness.dispatch(["sh", "-c", script])
    await harness.printed(run_id, "ready")
    await harness.stop(run_id, grace_s=10)
    ended = await harness.ended(run_id)

    assert (ended.exit_code, ended.reason) == (3, "aborted by user")
    assert harness.output(run_id) == ["ready", "saving"]


async def test_exit_codes_and_signals_are_reported_as_without_the_sandbox(harness: Harness) -> None:
    cases = {"exit 7": 7, "kill -KILL $$": -9, "kill -TERM $$": -15, "true": 0}
    runs = {await harness.dispatch(["sh", "-c", script]): code for script, code in cases.items()}
    ended = await asyncio.gather(*(harness.ended(run_id) for run_id in runs))

    assert [e.exit_code for e in ended] == list(cases.values())


async def test_a_missing_command_fails_as_without_the_sandbox(
    sandboxed: Harness, unsandboxed: Harness
) -> None:
    inside = await sandboxed.ended(await sandboxed.dispatch(["no-such-binary-xyz"]))
    plain = await unsandboxed.ended(await unsandboxed.dispatch(["no-such-binary-xyz"]))

    assert (inside.exit_code, inside.reason) == (plain.exit_code, plain.reason)
    assert inside.reason == "cannot start 'no-such-binary-xyz': No such file or directory"


async def test_an_external_input_that_would_show_home_is_refused(sandboxed: Harness) -> None:
    from shared.events import InputRef

    write_secrets(sandboxed.home)
    inputs = {"raw": InputRef(type="dataset", name="d", version=1, uri=sandboxed.home.as_uri())}
    run_id = await sandboxed.dispatch(["sh", "-c", 'cat "$BOXOPS_INPUTS/raw/token"'], inputs=inputs)
    ended = await sandboxed.ended(run_id)

    assert ended.exit_code is None
    assert ended.reason == f"input 'raw': {sandboxed.home} is hidden from runs"


async def test_without_bubblewrap_local_runs_are_refused_unless_unsandboxed_runs_are_allowed(
    nats_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no bwrap to be found
    refusing = await start_harness("local", nats_url, tmp_path / "a", docker=False)
    allowing = await start_harness(
        "local", nats_url, tmp_path / "b", executor_id="ex-b", docker=False, local_sandbox=False
    )
    try:
        refused = await refusing.ended(await refusing.dispatch(["/bin/true"]))
        ran = await allowing.ended(await allowing.dispatch(["/bin/true"]))
    finally:
        for harness in (refusing, allowing):
            await harness.service.stop()
            await harness.client.close()

    assert refused.exit_code is None
    assert refused.reason.startswith("local runs need bubblewrap (bwrap) for their sandbox")
    assert "BOXOPS_LOCAL_SANDBOX=false" in refused.reason
    assert ran.exit_code == 0


async def test_a_sandboxed_run_gets_no_session_sockets(
    nats_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """Through the user's D-Bus or ssh-agent a run could act outside its sandbox: it gets
    neither their addresses nor the runtime dir that holds them."""
    # Outside /tmp, which the sandbox replaces anyway: only the hiding keeps it unseen.
    runtime = Path(tempfile.mkdtemp(prefix="boxops-runtime-", dir="/var/tmp"))
    request.addfinalizer(lambda: shutil.rmtree(runtime))
    (runtime / "bus").write_text("session bus\n")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv("SSH_AUTH_SOCK", str(runtime / "bus"))
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={runtime}/bus")
    script = (
        'echo "${SSH_AUTH_SOCK:-no agent} ${DBUS_SESSION_BUS_ADDRESS:-no bus}'
        ' ${XDG_RUNTIME_DIR:-no runtime}"; cat ' + f"{runtime}/bus 2>/dev/null; echo tried"
    )
    for sandbox, expected in (
        (True, ["no agent no bus no runtime", "tried"]),
        (False, [f"{runtime}/bus unix:path={runtime}/bus {runtime}", "session bus", "tried"]),
    ):
        harness = await start_harness(
            "local", nats_url, tmp_path / f"home-{sandbox}", executor_id=f"ex-{sandbox}",
            docker=False, local_sandbox=sandbox,
        )  # fmt: skip
        try:
            run_id = await harness.dispatch(["sh", "-c", script])
            await harness.ended(run_id)
            assert harness.output(run_id) == expected, sandbox
        finally:
            await harness.service.stop()
            await harness.client.close()


async def test_a_program_kept_under_the_hosts_tmp_runs_in_the_sandbox(
    sandboxed: Harness, request: pytest.FixtureRequest
) -> None:
    """Its /tmp is its own, but a checkout or virtualenv under the host's /tmp that the
    command names is shown to it, read-only."""
    checkout = Path(tempfile.mkdtemp(prefix="boxops-checkout-", dir="/tmp"))
    request.addfinalizer(lambda: shutil.rmtree(checkout))
    (checkout / "tools").mkdir()
    script = checkout / "tools" / "hello.sh"
    script.write_text("#!/bin/sh\necho hello from $(dirname $0)\ntouch $(dirname $0)/w || true\n")
    script.chmod(0o755)
    run_id = await sandboxed.dispatch([str(script)])
    ended = await sandboxed.ended(run_id)
    assert ended.exit_code == 0, sandboxed.output(run_id)
    assert sandboxed.output(run_id)[0] == f"hello from {checkout}/tools"
    assert not (checkout / "tools" / "w").exists()  # read-only


def probing(port: int, abstract: str) -> list[str]:
    """A run that tries a loopback TCP port and an abstract Unix socket of the host."""
    script = f"""
import socket
for family, address in ((socket.AF_INET, ("127.0.0.1", {port})), (socket.AF_UNIX, {abstract!r})):
    with socket.socket(family) as s:
        s.settimeout(5)
        try:
            s.connect(address)
            print("reached")
        except OSError:
            print("refused")
"""
    return [sys.executable, "-c", script]


async def test_a_sandboxed_run_reaches_no_host_socket_unless_it_asks_for_the_network(
    sandboxed: Harness,
) -> None:
    tcp = await asyncio.start_server(lambda _r, w: w.close(), "127.0.0.1", 0)
    abstract = f"\0boxops-test-{uuid.uuid4().hex}"
    unix = await asyncio.start_unix_server(lambda _r, w: w.close(), abstract)
    probe = probing(tcp.sockets[0].getsockname()[1], abstract)
    try:
        cut = await sandboxed.dispatch(probe)
        await sandboxed.ended(cut)
        networked = await sandboxed.dispatch(probe, network=True)
        await sandboxed.ended(networked)
    finally:
        tcp.close()
        unix.close()

    assert sandboxed.output(cut) == ["refused", "refused"]
    assert sandboxed.output(networked) == ["reached", "reached"]
