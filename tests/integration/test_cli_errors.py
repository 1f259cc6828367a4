"""Every CLI error reads the same: the message alone, red, one line of stderr, exit 2 —
whether typer or the CLI found the mistake, the gateway refused, or no gateway answered. Where the
CLI finds its gateway and token: each environment variable wins over the stack's files."""

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from boxops.home import StackState, write_state
from shared.bus import new_id
from shared.events import Cause, RunRequested
from tests.conftest import free_port
from tests.integration.served_gateway import TOKEN, Served, served  # noqa: F401

CLI = "python -m boxops.cli.main"  # how the tests run it: the name in its --help hints
NOT_JSON = "the data is not JSON: Expecting property name enclosed in double quotes: "


async def test_every_error_is_its_message_alone_in_red_on_one_line_with_exit_2(
    served: Served,  # noqa: F811
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: component\nname: c\ncommand: []\n")
    closed = f"http://127.0.0.1:{free_port()}"
    nowhere = tmp_path / "nowhere"
    cases = [
        (["runs", "show", "nope"], {}, "no run with id 'nope'"),
        (["runs", "logs", "nope", "-f"], {}, "no run with id 'nope'"),
        (["runs", "abort", "nope"], {}, "no run with id 'nope'"),
        (["runs", "retry", "nope"], {}, "no run with id 'nope'"),
        (["datasets", "show", "nope"], {}, "no dataset 'nope'"),
        (["triggers", "show", "nope"], {}, "no trigger named 'nope'"),
        (["datasets", "show", "iris@"], {}, "expected NAME or NAME@VERSION, got 'iris@'"),
        (["runs", "submit", "train", "-p", "lr"], {}, "--param: expected NAME=VALUE, got 'lr'"),
        (["models", "push", "m", str(bad), "--metric", "acc=high"], {}, None),
        (
            ["events", "publish", "sales.updated", "{nope"],
            {},
            NOT_JSON + "line 1 column 2 (char 1)",
        ),
        (
            ["components", "register", str(bad)],
            {},
            f"{bad}: invalid component spec: command (line 3): "
            "List should have at least 1 item after validation, not 0",
        ),
        (["runs", "logs"], {}, f"Missing argument 'run_id' (see `{CLI} runs logs --help`)"),
        (
            ["runs", "list", "--bogus"],
            {},
            f"No such option: --bogus (see `{CLI} runs list --help`)",
        ),
        (
            ["triggers", "apply", str(nowhere)],
            {},
            f"Invalid value for 'path': file '{nowhere}' does not exist "
            f"(see `{CLI} triggers apply --help`)",
        ),
        (["runs", "list"], {"BOXOPS_GATEWAY_URL": closed}, f"cannot reach the gateway at {closed}"),
        (
            ["runs", "list"],
            {"BOXOPS_GATEWAY_URL": "", "BOXOPS_HOME": str(nowhere)},
            f"boxops is not running under {nowhere}: start it with `boxops up`",
        ),
    ]
    for args, env, message in cases:
        done = await served.boxops(*args, env=served.env(**env))
        said = done.stderr.splitlines()
        assert (done.returncode, done.stdout, len(said)) == (2, "", 1), (args, done.stderr)
        assert "Traceback" not in done.stderr and not said[0].startswith(("4", "5", "Error"))
        if message is None:
            assert said[0] == "--metric: values are numbers, got acc=high"
        elif message.startswith("cannot reach"):
            assert said[0].startswith(message + ": "), args
        else:
            assert said[0] == message, args

    coloured = await served.boxops("runs", "show", "nope", env=served.env(FORCE_COLOR="1"))
    assert coloured.stderr == "\x1b[31mno run with id 'nope'\x1b[0m\n"


async def test_each_environment_variable_wins_over_the_stacks_files(
    served: Served,  # noqa: F811
) -> None:
    """`BOXOPS_API_TOKEN=wrong boxops runs list` must not pass on the token file's token."""
    started = datetime.now(UTC).isoformat()
    write_state(served.home, StackState(os.getpid(), "nats://unused:4222", served.url, started))
    (served.home / "token").write_text(TOKEN)
    from_files = served.env(BOXOPS_GATEWAY_URL="")
    del from_files["BOXOPS_API_TOKEN"]

    assert (await served.boxops("runs", "list", env=from_files)).returncode == 0
    wrong = await served.boxops("runs", "list", env=from_files | {"BOXOPS_API_TOKEN": "wrong"})
    assert (wrong.returncode, wrong.stderr) == (2, "unknown, revoked or expired token\n")
    closed = f"http://127.0.0.1:{free_port()}"
    elsewhere = await served.boxops("runs", "list", env=from_files | {"BOXOPS_GATEWAY_URL": closed})
    assert elsewhere.stderr.startswith(f"cannot reach the gateway at {closed}: ")


async def test_the_logs_of_a_run_not_recorded_yet_wait_for_it(served: Served) -> None:  # noqa: F811
    """The scheduler records a run a moment after the gateway accepted it; `runs logs ID`
    in that moment waits for the record instead of saying there is no such run."""
    run_id = new_id()
    reading = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "boxops.cli.main", "runs", "logs", run_id],
        env=served.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reading.stderr is not None
    # It has asked once and found no run: only now is the run requested.
    waiting = await asyncio.wait_for(reading.stderr.readline(), 60)
    assert waiting.decode().startswith(f"run {run_id} is not recorded yet; waiting up to")
    request = RunRequested(command=["true"], run_id=run_id, cause=Cause(kind="manual"))
    await served.gateway.state.service.bus.publish(request, id=run_id)
    out, said = await asyncio.wait_for(reading.communicate(), 60)
    assert (reading.returncode, out, said) == (0, b"", b""), said


async def test_an_id_that_could_be_a_run_still_unknown_after_the_grace_is_an_error(
    served: Served,  # noqa: F811
) -> None:
    run_id = new_id()
    done = await served.boxops("runs", "show", run_id)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == f"no run with id {run_id!r}"
