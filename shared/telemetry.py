"""OpenTelemetry: one tracer provider per process; the exporter is chosen by settings."""

from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

from shared.settings import BoxopsSettings


def tracer_provider(settings: BoxopsSettings, service: str) -> TracerProvider | None:
    """A provider exporting where BOXOPS_OTEL_EXPORTER says, or None when tracing is off."""
    if settings.otel_exporter == "none":
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": f"boxops-{service}"}))
    if settings.otel_exporter == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=settings.otel_endpoint)
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def middlewares(provider: TracerProvider | None) -> tuple[NatsTelemetryMiddleware, ...]:
    """FastStream middleware that carries the trace context in message headers."""
    if provider is None:
        return ()
    return (NatsTelemetryMiddleware(tracer_provider=provider),)


def tracer(provider: TracerProvider | None, name: str) -> trace.Tracer:
    return (provider or trace.get_tracer_provider()).get_tracer(name)
