"""Service logs as people read them: a real service's JSON lines, `boxops logs -f`."""

import asyncio
import json
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
from faststream.nats import NatsBroker

from boxops.home import log_file
from shared.bus import Bus
from shared.envelope import body_for, headers_for
from shared.events import ExecutorRunStarted
from shared.health import health_subject
from tests.conftest import eventually
from tests.integration.processes import start_service

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def json_lines(log: Path) -> list[dict[str, Any]]:
    """Every whole line of the log as JSON (one that is not fails the test); a line
    being written is left for the next look."""
    return [json.loads(line) for line in log.read_text().split("\n")[:-1]]


async def test_a_service_logging_json_names_the_event_run_and_trace_it_handled(
    nats_url: str, tmp_path: Path
) -> None:
    scheduler = start_service("scheduler", tmp_path, nats_url=nats_url, log_format="json")
    client = await nats.connect(nats_url)
    broker = NatsBroker(nats_url)
    try:
        await eventually(lambda: healthy(client, "scheduler"), timeout=30)
        await broker.connect()
        bus = Bus(broker, "test")
        # A report about a run the scheduler never heard of: it logs that it ignored it.
        report = ExecutorRunStarted(run_id="ghost", executor_id="e1", at=datetime.now(UTC))
        envelope = bus.envelope(report)
        headers = headers_for(envelope) | {"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"}
        await bus.publish_raw(report.nats_subject(), body_for(envelope), headers)

        log = tmp_path / "scheduler.log"

        async def the_line() -> list[dict[str, Any]]:
            return [e for e in json_lines(log) if e.get("event_id") == envelope.id]

        [line] = await eventually(the_line, timeout=30)  # type: ignore[misc]
        assert line["message"] == "ignored executor.run.started for run ghost"
        assert (line["level"], line["service"], line["logger"]) == (
            "WARNING",
            "scheduler",
            "services.scheduler.handlers",
        )
        assert (line["run_id"], line["trace_id"]) == ("ghost", TRACE_ID)
    finally:
        await broker.stop()
        await client.close()
        scheduler.terminate()
        assert await asyncio.to_thread(scheduler.wait, 30) == 0
    said = [(e["service"], e["message"]) for e in json_lines(log)]
    assert ("scheduler", "scheduler started") in said
    assert said[-1] == ("scheduler", "scheduler stopped")


async def healthy(client: nats.NATS, service: str) -> bool:
    try:
        reply = await client.request(health_subject(service), b"{}", timeout=0.5)
    except Exception:
        return False
    return bool(json.loads(reply.data)["status"] == "ok")


async def test_boxops_logs_follow_prints_appended_lines_until_ctrl_c(tmp_path: Path) -> None:
    log = log_file(tmp_path, "scheduler")
    log.parent.mkdir(parents=True)
    log.write_text("old 1\nold 2\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    env["BOXOPS_HOME"] = str(tmp_path)
    follow = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "boxops.cli.main", "logs", "scheduler", "-f", "-n", "1"),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert follow.stdout
    try:
        assert await asyncio.wait_for(follow.stdout.readline(), 30) == b"old 2\n"
        with log.open("a") as file:  # the service writes on, from another process
            file.write("new 1\nnew 2\n")
        assert await asyncio.wait_for(follow.stdout.readline(), 30) == b"new 1\n"
        assert await asyncio.wait_for(follow.stdout.readline(), 30) == b"new 2\n"
    finally:
        follow.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(follow.wait(), 30)
    assert code == 0, await follow.stderr.read() if follow.stderr else b""
