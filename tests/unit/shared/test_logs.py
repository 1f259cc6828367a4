"""Service log lines: the service, run, event and trace on every line, as text or JSON."""

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from pydantic import ValidationError

from shared.envelope import Envelope
from shared.events import DatasetCreated, Event, MetricLogged, RunAbortRequested
from shared.logs import ContextFilter, JsonFormatter, TextFormatter, handling, log_context
from shared.settings import BoxopsSettings

TRACER = TracerProvider().get_tracer("test")


@dataclass
class Lines:
    """A logger of the scheduler's, written to `out` through the context filter."""

    logger: logging.Logger
    handler: logging.Handler
    out: io.StringIO

    def formatted(self, formatter: logging.Formatter) -> "Lines":
        self.handler.setFormatter(formatter)
        return self


@pytest.fixture
def lines() -> Iterator[Lines]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(ContextFilter("scheduler"))
    logger = logging.getLogger("test.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield Lines(logger, handler, out)
    logger.removeHandler(handler)


def envelope(data: Event, id: str = "event-1") -> Envelope[Event]:
    return Envelope(id=id, source="test", time=datetime.now(UTC), data=data)


def test_a_text_line_names_the_service_run_event_and_trace(lines: Lines) -> None:
    logger, out = lines.formatted(TextFormatter()).logger, lines.out
    with TRACER.start_as_current_span("work") as span, log_context(event_id="e1", run_id="r1"):
        logger.warning("run %s ignored", "r1")
    trace_id = trace.format_trace_id(span.get_span_context().trace_id)
    line = out.getvalue().rstrip("\n")
    stamp, rest = line.split(" ", 1)
    assert datetime.fromisoformat(stamp).tzinfo is not None
    assert rest == f"WARNING scheduler test.logs: run r1 ignored run=r1 event=e1 trace={trace_id}"


def test_a_text_line_without_context_has_no_ids(lines: Lines) -> None:
    logger, out = lines.formatted(TextFormatter()).logger, lines.out
    logger.info("started")
    assert out.getvalue().rstrip("\n").endswith(" INFO    scheduler test.logs: started")


def test_a_json_line_is_one_object_with_every_id_and_the_error(lines: Lines) -> None:
    logger, out = lines.formatted(JsonFormatter()).logger, lines.out
    with TRACER.start_as_current_span("work") as span, log_context(event_id="e1", run_id="r1"):
        try:
            raise ValueError("bad\nvalue")
        except ValueError:
            logger.exception("handler failed on %s", "run.requested")
    context = span.get_span_context()
    [line] = out.getvalue().splitlines()
    entry = json.loads(line)
    assert entry.pop("time").endswith("Z")
    assert "ValueError: bad" in entry.pop("exc_info")
    assert entry == {
        "level": "ERROR",
        "service": "scheduler",
        "logger": "test.logs",
        "message": "handler failed on run.requested",
        "run_id": "r1",
        "event_id": "e1",
        "trace_id": trace.format_trace_id(context.trace_id),
        "span_id": trace.format_span_id(context.span_id),
    }


def test_a_json_line_without_context_leaves_the_ids_out(lines: Lines) -> None:
    logger, out = lines.formatted(JsonFormatter()).logger, lines.out
    logger.info("started")
    assert set(json.loads(out.getvalue())) == {"time", "level", "service", "logger", "message"}


def test_ids_given_with_the_line_win_over_the_context(lines: Lines) -> None:
    logger, out = lines.formatted(JsonFormatter()).logger, lines.out
    with log_context(run_id="outer"):
        logger.info("x", extra={"run_id": "mine"})
    assert json.loads(out.getvalue())["run_id"] == "mine"


async def test_the_context_reaches_tasks_started_inside_and_ends_with_the_block() -> None:
    seen = io.StringIO()
    handler = logging.StreamHandler(seen)
    handler.addFilter(ContextFilter("executor"))
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.logs.tasks")
    logger.addHandler(handler)
    logger.propagate = False

    async def in_a_task() -> None:
        logger.warning("inside")

    try:
        with log_context(event_id="e1", run_id="r1"):
            task = asyncio.create_task(in_a_task())  # runs once this block awaits
            with log_context(run_id="r2"):  # an inner run, the same event
                logger.warning("nested")
        await task
        logger.warning("after")
    finally:
        logger.removeHandler(handler)
    nested, inside, after = (json.loads(line) for line in seen.getvalue().splitlines())
    assert (inside.get("event_id"), inside.get("run_id")) == ("e1", "r1")
    assert (nested.get("event_id"), nested.get("run_id")) == ("e1", "r2")
    assert "event_id" not in after and "run_id" not in after


def ids_while(envelopes: list[Envelope[Event]]) -> tuple[str | None, str | None]:
    record = logging.LogRecord("t", logging.INFO, "", 0, "m", None, None)
    with handling(envelopes):
        ContextFilter("s").filter(record)
    return record.event_id, record.run_id  # type: ignore[attr-defined]


def test_a_handled_event_gives_its_id_and_the_run_its_data_names() -> None:
    aborted = RunAbortRequested(run_id="r1")
    assert ids_while([envelope(aborted)]) == ("event-1", "r1")
    assert ids_while([envelope(DatasetCreated(dataset="iris"))]) == ("event-1", None)


def test_a_batch_names_a_run_only_when_all_its_events_share_it() -> None:
    def metric(run: str, id: str) -> Envelope[Event]:
        return envelope(MetricLogged(name="acc", value=1.0, run_id=run), id)

    assert ids_while([metric("r1", "a"), metric("r1", "b")]) == (None, "r1")
    assert ids_while([metric("r1", "a"), metric("r2", "b")]) == (None, None)


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("BOXOPS_LOG_FORMAT", "xml", "BOXOPS_LOG_FORMAT must be text or json, got 'xml'"),
        ("BOXOPS_LOG_LEVEL", "loud", "BOXOPS_LOG_LEVEL must be one of DEBUG, INFO, WARNING"),
    ],
)
def test_unknown_log_settings_are_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, said: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=said):
        BoxopsSettings()


def test_log_settings_take_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOXOPS_LOG_FORMAT", "JSON")
    monkeypatch.setenv("BOXOPS_LOG_LEVEL", "debug")
    settings = BoxopsSettings()
    assert (settings.log_format, settings.log_level) == ("json", "DEBUG")


PROCESS = """
import logging, warnings
from shared.logs import configure_logging
from shared.service import make_broker
from shared.settings import BoxopsSettings

configure_logging("trigger", BoxopsSettings())
make_broker(BoxopsSettings(), None)
logging.getLogger("services.trigger").debug("ours at debug")
logging.getLogger("aiosqlite").debug("a driver at debug")
logging.getLogger("faststream.nats").debug("Received")
logging.getLogger("faststream").info("faststream's own")
warnings.warn("careful")
raise RuntimeError("the end")
"""


def process_lines(**settings: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")} | settings
    done = subprocess.run(
        [sys.executable, "-c", PROCESS], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1 and not done.stdout
    return done.stderr.splitlines()


def test_a_json_process_writes_nothing_but_json_lines_from_every_source() -> None:
    entries = [json.loads(line) for line in process_lines(BOXOPS_LOG_FORMAT="json")]
    assert {e["service"] for e in entries} == {"trigger"}
    said = [(e["logger"], e["level"], e["message"]) for e in entries]
    assert said[:2] == [
        ("faststream", "INFO", "faststream's own"),
        ("py.warnings", "WARNING", said[1][2]),
    ]
    assert said[1][2].endswith("UserWarning: careful")
    assert said[2] == ("boxops", "CRITICAL", "stopped by an error")
    assert "RuntimeError: the end" in entries[2]["exc_info"]
    assert len(entries) == 3  # DEBUG lines stay out at the default INFO


def test_debug_shows_our_lines_and_per_message_ones_but_not_a_drivers() -> None:
    text = "\n".join(process_lines(BOXOPS_LOG_LEVEL="DEBUG"))
    assert "DEBUG   trigger services.trigger: ours at debug" in text
    assert "DEBUG   trigger faststream.nats: Received" in text
    assert "a driver at debug" not in text
