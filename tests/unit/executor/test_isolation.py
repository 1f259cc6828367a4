"""Where runs' work dirs live and what the local sandbox's bwrap command hides and shows."""

import tempfile
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.executor.app import local_backend
from services.executor.backends import StartError
from services.executor.backends.sandbox import Sandbox, _named_under_tmp, exit_code
from services.executor.contract import Layout
from services.executor.settings import ExecutorSettings
from services.executor.workdirs import WorkRootError, private_dir
from shared.events import Resources


def test_work_dirs_default_to_a_dir_of_the_stack_under_the_temp_dir(tmp_path: Path) -> None:
    a = ExecutorSettings(home=tmp_path / "a").work_dirs()
    b = ExecutorSettings(home=tmp_path / "b").work_dirs()

    assert a.parent == Path(tempfile.gettempdir()).resolve()
    assert a != b
    assert a == ExecutorSettings(home=tmp_path / "a").work_dirs()


def test_a_work_root_inside_home_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="BOXOPS_WORK_ROOT must be outside BOXOPS_HOME"):
        ExecutorSettings(home=tmp_path, work_root=tmp_path / "executor" / "runs")
    with pytest.raises(ValidationError, match="and not hold it"):
        ExecutorSettings(home=tmp_path / "home", work_root=tmp_path)
    chosen = ExecutorSettings(home=tmp_path / "home", work_root=tmp_path / "runs")
    assert chosen.work_dirs() == tmp_path / "runs"


def test_the_work_root_is_made_private_and_one_others_can_enter_is_refused(tmp_path: Path) -> None:
    made = private_dir(tmp_path / "runs")
    assert made.stat().st_mode & 0o777 == 0o700
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    with pytest.raises(WorkRootError, match="only it can enter"):
        private_dir(shared)
    (tmp_path / "link").symlink_to(made)
    with pytest.raises(WorkRootError):
        private_dir(tmp_path / "link")


@pytest.mark.parametrize(("bwrap", "reported"), [(0, 0), (7, 7), (137, -9), (143, -15), (255, 255)])
def test_a_death_by_signal_in_the_sandbox_is_reported_as_the_signal(
    bwrap: int, reported: int
) -> None:
    assert exit_code(bwrap) == reported


def attempt(tmp_path: Path) -> Layout:
    host = Layout(tmp_path / "runs" / "r1" / "attempt-1")
    for part in (host.inputs, host.outputs, host.work, host.sdk):
        Path(part).mkdir(parents=True)
    Path(host.params).write_text("{}")
    return host


def pairs(args: list[str], flag: str) -> list[tuple[str, str]]:
    return [(args[i + 1], args[i + 2]) for i, arg in enumerate(args) if arg == flag]


def test_the_sandbox_hides_home_the_runs_and_secret_files(tmp_path: Path) -> None:
    home, socket = tmp_path / "home", tmp_path / "docker.sock"
    home.mkdir()
    socket.write_text("")
    host = attempt(tmp_path)
    sandbox = Sandbox("bwrap", (home, tmp_path / "runs", socket, tmp_path / "absent"))

    args = sandbox.wrap(
        ["train", "--fast"], host, status_fd=9, gpu=False, network=False, program="/usr/bin/x"
    )

    tmpfs = [args[i + 1] for i, arg in enumerate(args) if arg == "--tmpfs"]
    assert tmpfs == ["/tmp", str(home), str(tmp_path / "runs")]
    assert ("/dev/null", str(socket)) in pairs(args, "--ro-bind")
    assert str(tmp_path / "absent") not in args
    assert args[args.index("--") :] == ["--", "train", "--fast"]
    assert {"--unshare-pid", "--die-with-parent", "--new-session"} <= set(args)
    assert args[args.index("--cap-drop") + 1] == "ALL"


def test_the_sandbox_shows_only_the_contracts_parts_and_only_outputs_work_sdk_writable(
    tmp_path: Path,
) -> None:
    host = attempt(tmp_path)
    args = Sandbox("bwrap", (tmp_path / "runs",)).wrap(
        ["x"], host, status_fd=9, gpu=False, network=False, program="/usr/bin/x"
    )

    writable = {a for a, b in pairs(args, "--bind") if a == b}
    assert writable == {str(host.outputs), str(host.work), str(host.sdk)}
    shown = {a for a, b in pairs(args, "--ro-bind") if a == b}
    assert shown == {"/", str(host.params), str(host.inputs)}
    assert str(host.logs) not in args
    hidden_first = args.index(str(tmp_path / "runs"))
    assert hidden_first < args.index(str(host.work))  # the run's dirs over the hidden root


def test_an_external_input_is_shown_read_only_unless_it_holds_a_hidden_path(
    tmp_path: Path,
) -> None:
    lake, home = tmp_path / "lake", tmp_path / "home"
    lake.mkdir()
    home.mkdir()
    host = attempt(tmp_path)
    Path(host.inputs, "raw").symlink_to(lake)
    sandbox = Sandbox("bwrap", (home,))

    assert (str(lake), str(lake)) in pairs(
        sandbox.wrap(["x"], host, status_fd=9, gpu=False, network=False, program="/usr/bin/x"),
        "--ro-bind",
    )
    Path(host.inputs, "all").symlink_to(tmp_path)
    with pytest.raises(StartError, match=f"input 'all': {tmp_path} is hidden from runs"):
        sandbox.wrap(["x"], host, status_fd=9, gpu=False, network=False, program="/usr/bin/x")


def test_the_sandbox_hides_home_the_work_root_and_the_bus_credentials_wherever_they_are(
    tmp_path: Path,
) -> None:
    creds = tmp_path / "etc" / "executor.creds"
    settings = ExecutorSettings(
        home=tmp_path / "home", work_root=tmp_path / "runs", nats_credentials=creds
    )
    backend = local_backend(settings, settings.work_dirs())

    assert isinstance(backend.sandbox, Sandbox)
    assert {tmp_path / "home", tmp_path / "runs", creds} <= set(backend.sandbox.hidden)


def test_a_pids_limit_below_16_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="pids"):
        Resources(pids=3)
    assert Resources().pids == 4096


def test_what_the_command_names_under_the_hosts_tmp_is_shown_read_only(tmp_path: Path) -> None:
    """A checkout or virtualenv under /tmp stays usable in the sandbox's own, empty /tmp."""
    checkout = Path(tempfile.mkdtemp(prefix="boxops-checkout-", dir="/tmp"))
    try:
        python = str(checkout / ".venv" / "bin" / "python")
        args = _named_under_tmp([python, python, str(checkout / "train.py"), "--fast", "/usr/x"])
        assert args == ["--ro-bind", str(checkout), str(checkout)]
        assert _named_under_tmp(["/tmp/no-such-folder-here/x", "/tmp", "python"]) == []
    finally:
        checkout.rmdir()
