"""Service logs: every line names the service and, where there is one, the run, the event
being handled and its trace; human-readable by default, one JSON object per line for
Loki or ELK (`BOXOPS_LOG_FORMAT=json`)."""

import json
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

from shared.envelope import Envelope
from shared.settings import BoxopsSettings

_event_id: ContextVar[str | None] = ContextVar("boxops_event_id", default=None)
_run_id: ContextVar[str | None] = ContextVar("boxops_run_id", default=None)

CONTEXT = ("run_id", "event_id", "trace_id", "span_id")
OWN_LOGGERS = ("shared", "services", "boxops", "faststream")


@contextmanager
def log_context(*, event_id: str | None = None, run_id: str | None = None) -> Iterator[None]:
    """Lines logged inside (and in tasks started inside) name this event and run;
    None leaves what an outer context set."""
    tokens = []
    if event_id is not None:
        tokens.append((_event_id, _event_id.set(event_id)))
    if run_id is not None:
        tokens.append((_run_id, _run_id.set(run_id)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def handling(envelopes: Sequence[Envelope[Any]]) -> AbstractContextManager[None]:
    """The log context of delivered envelopes: the event id of a lone one, and the run
    id when its data names one (for a batch, when all name the same one)."""
    runs = {getattr(envelope.data, "run_id", None) for envelope in envelopes}
    run_id = runs.pop() if len(runs) == 1 else None
    event_id = envelopes[0].id if len(envelopes) == 1 else None
    return log_context(event_id=event_id, run_id=run_id if isinstance(run_id, str) else None)


class ContextFilter(logging.Filter):
    """Stamps every record with the service and the current run, event and trace; on
    the handler, so lines of libraries get them too. Values given in `extra` win."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        span = trace.get_current_span().get_span_context()
        found = {
            "run_id": _run_id.get(),
            "event_id": _event_id.get(),
            "trace_id": trace.format_trace_id(span.trace_id) if span.is_valid else None,
            "span_id": trace.format_span_id(span.span_id) if span.is_valid else None,
        }
        if not hasattr(record, "service"):
            record.service = self.service
        for key, value in found.items():
            if getattr(record, key, None) is None:
                setattr(record, key, value)
        return True


def _utc(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _message(record: logging.LogRecord) -> str:
    return record.getMessage().rstrip("\n")  # a warning's text ends in one


def _exception(formatter: logging.Formatter, record: logging.LogRecord) -> str | None:
    parts = []
    if record.exc_info:
        parts.append(formatter.formatException(record.exc_info))
    if record.stack_info:
        parts.append(formatter.formatStack(record.stack_info))
    return "\n".join(parts) or None


class TextFormatter(logging.Formatter):
    """`time level service logger: message run=… event=… trace=…` (ids only when set)."""

    LABELS = {"run_id": "run", "event_id": "event", "trace_id": "trace"}

    def format(self, record: logging.LogRecord) -> str:
        ids = "".join(
            f" {label}={value}"
            for key, label in self.LABELS.items()
            if (value := getattr(record, key, None))
        )
        service = getattr(record, "service", "-")
        line = (
            f"{_utc(record)} {record.levelname:<7} {service} {record.name}: {_message(record)}{ids}"
        )
        exception = _exception(self, record)
        return f"{line}\n{exception}" if exception else line


class JsonFormatter(logging.Formatter):
    """One JSON object per line; the context keys only when set."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _utc(record),
            "level": record.levelname,
            "service": getattr(record, "service", None),
            "logger": record.name,
            "message": _message(record),
        }
        for key in CONTEXT:
            if value := getattr(record, key, None):
                entry[key] = value
        if exception := _exception(self, record):
            entry["exc_info"] = exception
        return json.dumps(entry, ensure_ascii=False, default=str)


def formatter(settings: BoxopsSettings) -> logging.Formatter:
    return JsonFormatter() if settings.log_format == "json" else TextFormatter()


def configure_logging(service: str, settings: BoxopsSettings) -> None:
    """One handler on stderr for the whole process, in the format and at the level the
    settings give; every library's lines go through it, so none escapes the format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(settings))
    handler.addFilter(ContextFilter(service))
    level = logging.getLevelNamesMapping()[settings.log_level]
    # DEBUG is for our own lines and FastStream's per-message ones: a driver's debug
    # lines (aiosqlite logs every call) would bury them.
    logging.basicConfig(level=max(level, logging.INFO), handlers=[handler], force=True)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(level)
    faststream = logging.getLogger("faststream")
    faststream.handlers.clear()  # it brings its own (colours, on stderr)
    faststream.propagate = True
    logging.captureWarnings(True)  # warnings become lines in the format, not raw stderr
    sys.excepthook = _log_uncaught


def _log_uncaught(kind: type[BaseException], error: BaseException, tb: Any) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, tb)
        return
    logging.getLogger("boxops").critical("stopped by an error", exc_info=(kind, error, tb))
