"""The run contract, case by case, on the local and the Docker backend alike."""

import asyncio
import errno
import json
import os

from shared.events import InputRef
from tests.conftest import eventually
from tests.integration.executor_harness import Harness, executor_fixture  # noqa: F401


async def test_params_arrive_as_variables_and_as_a_json_file(executor: Harness) -> None:
    script = 'echo "lr=$BOXOPS_PARAM_LR"; cat "$BOXOPS_PARAMS"; echo "run=$BOXOPS_RUN_ID"'
    # The run's own env cannot override its contract: the param wins.
    spoofed = {"BOXOPS_PARAM_LR": "0.9", "BOXOPS_RUN_ID": "someone-else"}
    run_id = await executor.dispatch(
        ["sh", "-c", script], params={"lr": 0.1, "layers": [1, 2]}, env=spoofed
    )
    ended = await executor.ended(run_id)

    assert (ended.exit_code, ended.reason) == (0, "exit code 0")
    out = executor.output(run_id)
    assert "lr=0.1" in out
    assert f"run={run_id}" in out
    assert json.loads("\n".join(line for line in out if not line.startswith(("lr=", "run=")))) == {
        "layers": [1, 2],
        "lr": 0.1,
    }


async def test_external_inputs_are_linked_and_other_uris_handed_over(
    executor: Harness, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "lake" / "iris"
    data.mkdir(parents=True)
    (data / "part-0.csv").write_text("a,b\n1,2\n")
    inputs = {
        "raw": InputRef(type="dataset", name="iris", version=1, uri=data.as_uri()),
        "remote": InputRef(type="dataset", name="big", version=2, uri="s3://bucket/big/"),
    }
    script = 'cat "$BOXOPS_INPUTS/raw/part-0.csv"; echo "uri=$BOXOPS_INPUT_REMOTE_URI"'
    run_id = await executor.dispatch(["sh", "-c", script], inputs=inputs)
    ended = await executor.ended(run_id)

    assert ended.exit_code == 0, ended
    assert executor.output(run_id) == ["a,b", "1,2", "uri=s3://bucket/big/"]


async def test_input_and_output_placeholders_become_paths(executor: Harness, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "d"
    data.mkdir()
    inputs = {"raw": InputRef(type="dataset", name="d", version=1, uri=data.as_uri())}
    command = ["sh", "-c", 'echo "$0 $1"', "{{ inputs.raw }}", "{{outputs.report}}"]
    run_id = await executor.dispatch(command, inputs=inputs, outputs={"report": "file"})
    await executor.ended(run_id)

    seen = "/boxops" if executor.backend == "docker" else str(executor.workdir(run_id))
    assert executor.output(run_id) == [f"{seen}/inputs/raw {seen}/outputs/report"]


async def test_a_command_naming_an_undeclared_output_fails_with_the_reason(
    executor: Harness,
) -> None:
    run_id = await executor.dispatch(["sh", "-c", "echo {{ outputs.nope }}"])
    ended = await executor.ended(run_id)

    assert ended.exit_code is None
    assert "outputs.nope" in ended.reason


async def test_output_lines_are_streamed_live_with_timestamps(executor: Harness) -> None:
    run_id = await executor.dispatch(["sh", "-c", "echo first; echo oops >&2; sleep 3; echo last"])
    started = asyncio.get_running_loop().time()

    async def first_line() -> bool:
        return "first" in executor.output(run_id)

    while not await first_line():
        assert run_id not in executor.ended_reports, "the line came only with the end"
        await asyncio.sleep(0.02)
    assert asyncio.get_running_loop().time() - started < 3
    ended = await executor.ended(run_id)

    lines = [line for _, line in executor.lines[run_id]]
    assert [(x.stream, x.line) for x in lines if x.stream == "stdout"] == [
        ("stdout", "first"),
        ("stdout", "last"),
    ]
    assert ("stderr", "oops") in [(x.stream, x.line) for x in lines]
    assert ended.stderr_tail == "oops"
    times = [x.t for x in lines if x.stream == "stdout"]
    assert (times[1] - times[0]).total_seconds() >= 2.5


async def test_metric_param_and_tag_markers_are_recorded(executor: Harness) -> None:
    script = (
        "echo '::metric name=loss value=0.5 step=1';"
        "echo '::metric name=loss value=0.25 step=2';"
        "echo '::metric name=acc value=0.93 step=3';"
        "echo '::param name=lr value=0.01'; echo '::tag name=team value=vision';"
        "echo '::metric name=broken value=abc'"
    )
    run_id = await executor.dispatch(["sh", "-c", script], component="train@1")
    ended = await executor.ended(run_id)

    assert ended.metrics == {"loss": 0.25, "acc": 0.93}
    assert ended.params == {"lr": "0.01"}
    assert ended.tags == {"team": "vision"}
    points = executor.points.get(run_id, [])
    assert sorted((p.name, p.step, p.value) for p in points) == [
        ("acc", 3, 0.93),
        ("loss", 1, 0.5),
        ("loss", 2, 0.25),
    ]
    assert points[0].labels["component"] == "train"
    assert points[0].labels["component_ref"] == "train@1"
    assert points[0].labels["run_id"] == run_id


async def test_a_stop_request_ends_a_run_that_ignores_sigterm(executor: Harness) -> None:
    run_id = await executor.dispatch(["sh", "-c", "trap '' TERM; echo ready; sleep 60 & wait"])
    await executor.started(run_id)

    await executor.printed(run_id, "ready")
    loop = asyncio.get_running_loop()
    asked = loop.time()
    await executor.stop(run_id, grace_s=1)
    ended = await executor.ended(run_id)

    assert ended.reason == "aborted by user"
    assert ended.exit_code != 0
    assert loop.time() - asked < 8


async def test_a_command_that_does_not_exist_fails_with_a_clear_reason(executor: Harness) -> None:
    run_id = await executor.dispatch(["no-such-binary-xyz", "--help"])
    ended = await executor.ended(run_id)

    assert ended.exit_code in (None, 126, 127)
    text = (ended.reason + ended.stderr_tail).lower()
    assert "no-such-binary-xyz" in text
    assert "not found" in text or "no such file" in text


async def test_children_left_behind_are_stopped_with_the_run(executor: Harness) -> None:
    # The child holds a FIFO open for reading while it lives; the parent exits only once
    # the child has opened it (its own open for writing waits for a reader).
    script = (
        'cd "$BOXOPS_WORKDIR"; mkfifo alive;'
        "(exec 3<alive; sleep 3; echo late > child-was-here) &"
        "exec 4>alive; exec 4>&-; echo parent-exits"
    )
    run_id = await executor.dispatch(["sh", "-c", script])
    ended = await executor.ended(run_id, timeout=10)

    assert ended.exit_code == 0
    work = executor.workdir(run_id) / "work"

    async def no_reader_left() -> bool:
        try:
            os.close(os.open(work / "alive", os.O_WRONLY | os.O_NONBLOCK))
        except OSError as err:  # ENXIO: no process has it open for reading
            return err.errno == errno.ENXIO
        return False

    await eventually(no_reader_left)  # a child left alive would write its file first
    assert not (work / "child-was-here").exists()


async def test_writes_outside_the_outputs_are_not_uploaded(executor: Harness) -> None:
    script = (
        'echo stray > "$BOXOPS_OUTPUTS/../stray.txt"; echo scratch > "$BOXOPS_WORKDIR/tmp.txt";'
        'echo nope > "$BOXOPS_OUTPUTS/undeclared.txt"'
    )
    run_id = await executor.dispatch(["sh", "-c", script])
    ended = await executor.ended(run_id)

    assert ended.exit_code == 0
    assert ended.outputs == {}


async def test_a_symlink_to_a_host_file_in_the_outputs_fails_the_run_and_uploads_nothing(
    executor: Harness,
) -> None:
    script = 'ln -s /etc/passwd "$BOXOPS_OUTPUTS/model/passwd"; echo done'
    run_id = await executor.dispatch(["sh", "-c", script], outputs={"model": "model"})
    ended = await executor.ended(run_id)

    assert ended.exit_code is None
    assert ended.outputs == {}
    assert ended.reason.startswith("exit code 0, but refused: output 'model': passwd is a symlink")
    assert "outside the output" in ended.reason


async def test_replacing_the_outputs_dir_by_a_symlink_is_refused(executor: Harness) -> None:
    script = 'rm -rf "$BOXOPS_OUTPUTS/model"; ln -s /etc "$BOXOPS_OUTPUTS/model"'
    run_id = await executor.dispatch(["sh", "-c", script], outputs={"model": "model"})
    ended = await executor.ended(run_id)

    assert ended.outputs == {}
    assert "not a directory" in ended.reason


async def test_a_flood_of_output_is_capped_and_the_executor_stays_up(executor: Harness) -> None:
    # 1 GiB of 1 KiB lines; only the first log_limit_mb are recorded.
    script = "yes \"$(printf '%01023d' 0)\" | head -c 1073741824; echo after"
    run_id = await executor.dispatch(["sh", "-c", script])
    # A hang guard, not a speed check: Docker pipes the whole GiB through its daemon,
    # which takes from 10 s to over 30 s on a loaded 2-core machine.
    ended = await executor.ended(run_id, timeout=180)

    assert ended.exit_code == 0
    out = executor.output(run_id)
    assert any("not recorded" in line for line in out)
    assert len(out) < 100_000
    after = await executor.dispatch(["sh", "-c", "echo still-up"])
    assert (await executor.ended(after)).exit_code == 0
    assert executor.output(after) == ["still-up"]
