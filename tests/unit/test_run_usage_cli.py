"""`boxops runs show` puts what a run used beside what it asked for."""

from boxops.cli.common import console
from boxops.cli.run_usage import size
from boxops.cli.runs import print_run

RUN = {
    "id": "r1",
    "state": "failed",
    "command": ["python", "fit.py"],
    "cause": {"kind": "manual"},
    "exit_code": -9,
    "resources": {"cpu": 2, "memory_mb": 8192, "gpu": 0},
    "duration_s": 10.0,
    "usage": {
        "peak_rss_mb": 1228.8,
        "last_rss_mb": 1200.0,
        "cpu_seconds": 15.0,
        "io_read_mb": 3.0,
        "io_write_mb": 2048.0,
        "samples": 2,
        "oom_killed": True,
    },
    "history": [],
}


def shown(run: dict[str, object]) -> list[str]:
    with console.capture() as captured:
        print_run(run)
    return captured.get().splitlines()


def test_runs_show_puts_the_peak_beside_the_memory_asked_and_the_cpu_seconds_beside_the_cores() -> (
    None
):
    lines = shown(RUN)
    assert "memory    asked 8 GiB, peak 1.2 GiB" in lines
    assert "cpu       asked 2, used 15.0 CPU-s (avg 1.50 cores)" in lines
    assert "io        read 3 MiB, wrote 2 GiB" in lines
    assert "killed    out of memory (last sampled RSS 1.2 GiB)" in lines


def test_a_run_not_sampled_shows_no_usage() -> None:
    lines = shown({**RUN, "usage": None})
    assert not [line for line in lines if line.startswith(("memory", "cpu", "io", "killed"))]


def test_sizes_read_as_people_read_them() -> None:
    assert [size(212.4), size(1024), size(1228.8)] == ["212 MiB", "1 GiB", "1.2 GiB"]
