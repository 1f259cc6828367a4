"""Wiring of the trigger service: its database (migrated at start), outbox and health."""

from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider

from shared.service import Service, attach_database, build_service
from shared.settings import BoxopsSettings

NAME = "trigger"
MIGRATIONS = Path(__file__).parent / "migrations" / "versions"


def build_app(settings: BoxopsSettings, *, tracing: TracerProvider | None = None) -> Service:
    service = build_service(NAME, settings, tracing)
    attach_database(service, MIGRATIONS)
    return service
