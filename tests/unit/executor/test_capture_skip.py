"""A run attached to again replays its output from the start: the lines an earlier life of
the executor recorded (its archive's) are neither shipped nor archived twice."""

import json
from pathlib import Path

from services.executor.capture import Capture, LogShipper
from services.executor.markers import Marker


async def nothing(_: object) -> None:
    return None


def test_the_lines_an_earlier_life_recorded_are_skipped(tmp_path: Path) -> None:
    archive = tmp_path / "logs.jsonl"
    archive.write_text('{"line": "one"}\n{"line": "two"}\n')
    shipper = LogShipper("r1", nothing, 1.0)
    markers: list[Marker] = []
    capture = Capture(shipper, archive, markers.append, 1 << 20, skip=2, durable=True)

    capture("stdout", b"one\n")
    capture("stderr", b"two\n")
    capture("stdout", b"::metric name=acc value=0.5\nthree\n")
    lines = [json.loads(line)["line"] for line in archive.read_text().splitlines()]
    capture.close()

    assert lines == ["one", "two", "::metric name=acc value=0.5", "three"]
    assert [line.line for line in shipper.pending] == ["::metric name=acc value=0.5", "three"]
    assert markers == [Marker("metric", "acc", 0.5)]
