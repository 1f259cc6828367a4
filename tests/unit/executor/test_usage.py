"""The arithmetic of a run's usage: points from readings, peaks and totals, OOM kills."""

from services.executor.usage import Reading, Usage, oom_reason, out_of_memory

MB = 1024 * 1024


def reading(at: float, cpu_s: float, rss_mb: int, read_mb: int = 0, write_mb: int = 0) -> Reading:
    return Reading(
        at=at,
        cpu_s=cpu_s,
        rss_bytes=rss_mb * MB,
        read_bytes=read_mb * MB,
        write_bytes=write_mb * MB,
    )


def test_cpu_percent_is_the_cpu_time_over_the_wall_time_since_the_last_reading() -> None:
    usage = Usage.since(10.0)
    assert usage.add(reading(12.0, 1.0, 100))["system/cpu_percent"] == 50.0
    assert usage.add(reading(13.0, 2.0, 100))["system/cpu_percent"] == 100.0


def test_the_summary_keeps_the_peak_rss_the_last_one_and_the_cpu_seconds() -> None:
    usage = Usage.since(0.0)
    for at, rss in enumerate((50, 300, 120), start=1):
        usage.add(reading(at, at * 0.5, rss))
    summary = usage.summary()
    assert (summary.peak_rss_mb, summary.last_rss_mb) == (300, 120)
    assert summary.cpu_seconds == 1.5
    assert summary.samples == 3


def test_counters_that_fall_when_a_process_ends_do_not_take_back_what_was_used() -> None:
    usage = Usage.since(0.0)
    usage.add(reading(1.0, 4.0, 10, read_mb=8, write_mb=3))
    points = usage.add(reading(2.0, 1.0, 10, read_mb=2, write_mb=1))
    assert points["system/cpu_percent"] == 0.0
    usage.add(reading(3.0, 2.0, 10, read_mb=4, write_mb=1))
    assert (usage.cpu_s, usage.read_bytes, usage.write_bytes) == (5.0, 10 * MB, 3 * MB)


def test_a_sigkill_at_the_memory_limit_is_out_of_memory_and_one_below_it_is_not() -> None:
    assert out_of_memory(code=-9, limit_mb=512, last_rss_mb=500)
    assert out_of_memory(code=137, limit_mb=512, last_rss_mb=480)
    assert not out_of_memory(code=-9, limit_mb=512, last_rss_mb=100)
    assert not out_of_memory(code=1, limit_mb=512, last_rss_mb=510)


def test_an_oom_kill_counted_by_the_cgroup_is_out_of_memory_whatever_was_sampled() -> None:
    assert out_of_memory(code=-9, limit_mb=512, last_rss_mb=0, oom_kills=1)


def test_the_oom_reason_names_the_limit_and_the_last_sampled_rss() -> None:
    reason = oom_reason(512, 498.4)
    assert (
        reason == "out of memory: killed at its memory limit of 512 MiB (last sampled RSS 498 MiB)"
    )
