"""A container's stats as Docker answers them, read as a run's usage."""

from services.executor.container_stats import reading_of

MB = 1024 * 1024
STATS = {
    "pids_stats": {"current": 3},
    "cpu_stats": {"cpu_usage": {"total_usage": 2_500_000_000}},
    "memory_stats": {"usage": 300 * MB, "stats": {"inactive_file": 100 * MB}},
    "blkio_stats": {
        "io_service_bytes_recursive": [
            {"major": 8, "minor": 0, "op": "read", "value": 4 * MB},
            {"major": 8, "minor": 0, "op": "write", "value": 6 * MB},
            {"major": 8, "minor": 16, "op": "Write", "value": 1 * MB},
        ]
    },
}


def test_memory_is_the_usage_without_the_page_cache_the_kernel_can_drop() -> None:
    reading = reading_of(STATS, at=1.0)
    assert reading is not None
    assert reading.rss_bytes == 200 * MB
    assert reading.cpu_s == 2.5
    assert (reading.read_bytes, reading.write_bytes) == (4 * MB, 7 * MB)


def test_a_stopped_containers_stats_are_no_reading() -> None:
    assert reading_of({"memory_stats": {}, "pids_stats": {}}, at=1.0) is None
    assert reading_of({**STATS, "pids_stats": {"current": 0}}, at=1.0) is None
