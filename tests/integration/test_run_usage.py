"""What a run used, sampled by a real executor from the run's real processes: `system/`
metric points while it runs, peaks and totals in its end report; nothing when sampling is off."""

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.executor.usage import PREFIX
from tests.conftest import eventually
from tests.integration.executor_harness import Harness, need_docker, start_harness

HOLD = "import os, time\nwhile not os.path.exists('release'): time.sleep(0.02)\n"
MEMORY = "held = b'\\x01' * (210 << 20)\nprint('held', flush=True)\n" + HOLD
# The busy loop says what CPU it got itself: on a loaded machine it may not get a core.
BUSY = (
    "import os, time\nstart, cpu = time.monotonic(), time.process_time()\n"
    "while not os.path.exists('release'): pass\n"
    "print(f'own {100 * (time.process_time() - cpu) / (time.monotonic() - start):.1f}'"
    " f' {time.process_time():.3f}', flush=True)\n"
)


@pytest.fixture(name="executor")
async def executor_fixture(nats_url: str, tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await start_harness("local", nats_url, tmp_path / "home", executor_sample_s=0.2)
    yield harness
    await harness.service.stop()
    await harness.client.close()


def series(executor: Harness, run_id: str, name: str) -> list[float]:
    return [p.value for p in executor.points.get(run_id, []) if p.name == PREFIX + name]


async def sampled(executor: Harness, run_id: str, name: str, count: int) -> list[float]:
    async def check() -> list[float] | None:
        values = series(executor, run_id, name)
        return values if len(values) >= count else None

    return await eventually(check, timeout=60)  # type: ignore[return-value]


def release(executor: Harness, run_id: str) -> None:
    (executor.workdir(run_id) / "work" / "release").touch()


async def test_a_run_holding_200_mb_records_its_rss_and_its_peak(executor: Harness) -> None:
    run_id = await executor.dispatch([sys.executable, "-c", MEMORY])
    await executor.printed(run_id, "held", timeout=60)

    async def held() -> bool:  # sampled twice at least, once holding it
        points = series(executor, run_id, "memory_rss_mb")
        return len(points) >= 2 and any(v >= 200 for v in points)

    await eventually(held, timeout=60)
    release(executor, run_id)
    ended = await executor.ended(run_id, timeout=60)

    assert ended.exit_code == 0
    assert ended.usage is not None
    assert ended.usage.peak_rss_mb >= 200
    assert ended.usage.samples >= 2
    assert not ended.usage.oom_killed
    assert ended.metrics[PREFIX + "memory_rss_mb"] > 0  # the last values, as any metric's


async def test_a_run_killed_at_its_memory_limit_is_recorded_as_out_of_memory(
    executor: Harness,
) -> None:
    # What the kernel's OOM killer does to a process at its limit: SIGKILL, with no word.
    die = "import signal\nos.kill(os.getpid(), signal.SIGKILL)\n"
    script = MEMORY.replace("210 << 20", "240 << 20")
    run_id = await executor.dispatch(
        [sys.executable, "-c", script + die], resources={"memory_mb": 256, "cpu": 1}
    )

    async def at_limit() -> bool:
        return any(v >= 240 for v in series(executor, run_id, "memory_rss_mb"))

    await eventually(at_limit, timeout=60)
    release(executor, run_id)
    ended = await executor.ended(run_id, timeout=60)

    assert ended.exit_code == -9
    assert ended.usage is not None and ended.usage.oom_killed
    assert ended.reason.startswith("out of memory: killed at its memory limit of 256 MiB")
    assert "last sampled RSS 2" in ended.reason


async def test_a_busy_loop_records_the_cpu_it_got(executor: Harness) -> None:
    run_id = await executor.dispatch([sys.executable, "-c", BUSY])
    await sampled(executor, run_id, "cpu_percent", 6)
    release(executor, run_id)
    ended = await executor.ended(run_id, timeout=60)

    own = next(line for line in executor.output(run_id) if line.startswith("own "))
    own_percent, own_cpu_s = (float(x) for x in own.split()[1:])
    assert own_percent > 10, own  # it got a real share of a core, whatever the load
    recorded = series(executor, run_id, "cpu_percent")
    assert max(recorded) >= 0.8 * own_percent, (recorded, own)
    assert ended.usage is not None
    # The tree's time up to its last sample (what ran after it is not seen): most of the
    # loop's own, and no more than it and a little (python's start, the sandbox).
    assert 0.5 * own_cpu_s <= ended.usage.cpu_seconds <= own_cpu_s + 1.0, (ended.usage, own)


async def test_a_quiet_run_records_near_zero_cpu(executor: Harness) -> None:
    quiet = "print('ready', flush=True)\n" + HOLD
    run_id = await executor.dispatch([sys.executable, "-c", quiet])
    await executor.printed(run_id, "ready", timeout=60)
    # Python's start may span the first samples: only those from after it count, and the
    # first of them may straddle it.
    before = len(series(executor, run_id, "cpu_percent"))
    recorded = (await sampled(executor, run_id, "cpu_percent", before + 6))[before + 1 :]
    release(executor, run_id)
    ended = await executor.ended(run_id, timeout=60)

    assert max(recorded) < 10, recorded  # its polling of a file, every 20 ms
    assert ended.usage is not None and ended.usage.cpu_seconds < 2
    assert ended.usage.io_write_mb < 1


async def test_a_run_writing_a_file_records_the_bytes_written(executor: Harness) -> None:
    write = "open('out.bin', 'wb').write(b'x' * (8 << 20))\n"
    run_id = await executor.dispatch([sys.executable, "-c", HOLD.replace("while", write + "while")])

    async def written() -> bool:
        return any(v >= 8 for v in series(executor, run_id, "io_write_mb"))

    # Bytes reach the storage layer when written back; a filesystem in memory writes none.
    try:
        await eventually(written, timeout=20)
    finally:
        release(executor, run_id)
    await executor.ended(run_id, timeout=60)


async def test_with_sampling_off_nothing_is_recorded(nats_url: str, tmp_path: Path) -> None:
    executor = await start_harness("local", nats_url, tmp_path / "home", executor_sample_s=0)
    try:
        run_id = await executor.dispatch(
            [sys.executable, "-c", "print('::metric name=done value=1')"]
        )
        ended = await executor.ended(run_id, timeout=60)

        async def marker() -> bool:
            return any(p.name == "done" for p in executor.points.get(run_id, []))

        await eventually(marker, timeout=20)  # the run's points are in: none of them system/
        assert [p.name for p in executor.points[run_id]] == ["done"]
        assert ended.usage is None
    finally:
        await executor.service.stop()
        await executor.client.close()


async def test_a_container_is_sampled_from_its_stats(nats_url: str, tmp_path: Path) -> None:
    need_docker()
    executor = await start_harness("docker", nats_url, tmp_path / "home", executor_sample_s=0.2)
    try:
        run_id = await executor.dispatch(["sh", "-c", "while [ ! -f release ]; do :; done"])
        recorded = await sampled(executor, run_id, "cpu_percent", 2)
        memory = series(executor, run_id, "memory_rss_mb")
        release(executor, run_id)
        ended = await executor.ended(run_id, timeout=60)

        assert ended.exit_code == 0
        assert max(recorded) > 5, recorded  # its busy loop, as the container's stats say
        assert memory and all(0 < v < 100 for v in memory), memory
        assert ended.usage is not None and ended.usage.cpu_seconds > 0
    finally:
        await executor.service.stop()
        await executor.client.close()
