"""A Ray job's log as the run's output: Ray's own lines before the launcher dropped, stderr
lines routed back to stderr, the launcher's end line kept out. No cluster: the lines only."""

from services.executor.backends.ray import RayRun
from services.executor.ray_plan import BEGIN, STDERR, Ended, dumps_ended


def fed(*chunks: str) -> tuple[RayRun, list[tuple[str, str]]]:
    got: list[tuple[str, bytes]] = []
    run = RayRun(cluster=None, job="boxops-r-1")  # type: ignore[arg-type]

    def sink(stream: str, data: bytes) -> None:
        got.append((stream, data))

    for chunk in chunks:
        run.feed(chunk, sink)
    return run, [(stream, data.decode()) for stream, data in got]


def test_rays_set_up_lines_are_dropped_once_the_launcher_began() -> None:
    _, got = fed("INFO Runtime env is setting up.\nRunning entrypoint for job x\n", BEGIN + "\n")
    assert got == []


def test_stdout_and_stderr_come_apart_and_the_end_line_stays_out() -> None:
    end = dumps_ended(Ended(exit_code=0))
    _, got = fed(BEGIN + "\nout 1\n" + STDERR + "err 1\nou", "t 2\n" + end + "\n")
    assert got == [("stdout", "out 1\n"), ("stderr", "err 1\n"), ("stdout", "out 2\n")]


def test_what_ray_said_is_kept_while_the_launcher_has_not_begun() -> None:
    run, got = fed("Traceback (most recent call last):\n", "RuntimeError: no node fits\n")
    assert got == []
    assert run.held == ["Traceback (most recent call last):", "RuntimeError: no node fits"]


def test_characters_fed_are_counted_to_resume_from_the_whole_log() -> None:
    run, _ = fed("héllo\n", BEGIN + "\n")
    assert run.fed == len("héllo\n" + BEGIN + "\n")
