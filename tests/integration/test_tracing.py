"""One run's trace: HTTP request → gateway → scheduler → executor → scheduler, one trace id.

FastStream's NatsTelemetryMiddleware names spans "<subject> create|publish|process"; we match
on its attributes instead: PRODUCER spans carry `messaging.destination.name`, CONSUMER spans
`messaging.destination_publish.name`, both `messaging.operation` ("publish" / "process").
"""

from collections.abc import Callable, Sequence
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from tests.conftest import eventually
from tests.integration.conftest import start_stack, stop_stack
from tests.integration.test_run_flow import finished_run


def published(spans: Sequence[ReadableSpan], subject: str) -> list[ReadableSpan]:
    return [
        s
        for s in spans
        if s.kind is SpanKind.PRODUCER
        and s.attributes
        and s.attributes.get("messaging.destination.name") == subject
        and s.attributes.get("messaging.operation") == "publish"
    ]


def processed(spans: Sequence[ReadableSpan], subject: str) -> list[ReadableSpan]:
    return [
        s
        for s in spans
        if s.kind is SpanKind.CONSUMER
        and s.attributes
        and s.attributes.get("messaging.destination_publish.name") == subject
        and s.attributes.get("messaging.operation") == "process"
    ]


async def finished(
    exporter: InMemorySpanExporter,
    pick: Callable[[Sequence[ReadableSpan], str], list[ReadableSpan]],
    subject: str,
) -> list[ReadableSpan]:
    return pick(exporter.get_finished_spans(), subject)


def one(found: list[ReadableSpan], what: str, spans: Sequence[ReadableSpan]) -> ReadableSpan:
    names = sorted({s.name for s in spans})
    assert len(found) == 1, f"expected one span {what}, got {len(found)}; spans seen: {names}"
    return found[0]


async def test_a_run_is_one_trace_from_http_request_to_completion(
    nats_url: str, tmp_path: Path
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    db = (f"sqlite+aiosqlite:///{tmp_path / 's.db'}", "main")
    stack = await start_stack(nats_url, db, tmp_path / "home", tracing=provider)
    try:
        # A run requested before the scheduler has heard ex1's first heartbeat is placed
        # later by the heartbeat handler, i.e. in the heartbeat's trace. Wait for it: the
        # process span ends only once the handler has returned.
        await eventually(lambda: finished(exporter, processed, "executor.heartbeat"))
        exporter.clear()

        response = await stack.http.post("/v1/runs", json={"command": ["true"]})
        assert response.status_code == 202, response.text
        run = await finished_run(stack, response.json()["id"])
        assert run["state"] == "completed"
        # The run.completed publish span ends right after the (already awaited) publish.
        await eventually(lambda: finished(exporter, published, "run.completed"))
    finally:
        await stop_stack(stack)

    spans = exporter.get_finished_spans()
    http = one(
        [s for s in spans if s.kind is SpanKind.SERVER and s.name == "POST /v1/runs"],
        "for POST /v1/runs",
        spans,
    )
    chain = {
        "HTTP POST /v1/runs": http,
        "gateway publishing run.requested": one(
            published(spans, "run.requested"), "publishing run.requested", spans
        ),
        "scheduler processing run.requested": one(
            processed(spans, "run.requested"), "processing run.requested", spans
        ),
        "executor processing run.dispatched.ex1": one(
            processed(spans, "run.dispatched.ex1"), "processing run.dispatched.ex1", spans
        ),
        "scheduler publishing run.completed": one(
            published(spans, "run.completed"), "publishing run.completed", spans
        ),
    }
    traces = {what: f"{span.context.trace_id:032x}" for what, span in chain.items()}
    assert len(set(traces.values())) == 1, traces

    # And the trace is one tree: the HTTP span is its only root.
    trace_id = http.context.trace_id
    roots = [s.name for s in spans if s.context.trace_id == trace_id and s.parent is None]
    assert roots == ["POST /v1/runs"], roots
