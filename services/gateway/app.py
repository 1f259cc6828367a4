"""The gateway's wiring: a FastAPI app whose lifespan runs its NATS side."""

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi_offline import FastAPIOffline
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.gateway import (
    alert_hooks,
    artifacts,
    dlq,
    events,
    executors,
    hooks,
    login_links,
    registry,
    runs,
    sdk,
    signed_hooks,
    streams,
    tokens,
    triggers,
)
from services.gateway.auth import authorized
from services.gateway.decisions import Decisions
from services.gateway.invalid import invalid_request
from services.gateway.live import router as live_streams
from services.gateway.names import EncodedSlashes, unrouted
from services.gateway.problems import ERRORS
from services.gateway.rate_limits import RateLimits
from services.gateway.settings import GatewaySettings
from services.gateway.ui import render, site
from shared.internal_errors import InternalErrors
from shared.service import attach_tables, build_service
from shared.telemetry import tracer, tracer_provider

NAME = "gateway"
MIGRATIONS = Path(__file__).parent / "migrations" / "versions"
log = logging.getLogger(__name__)


def build_app(settings: GatewaySettings, *, tracing: TracerProvider | None = None) -> FastAPI:
    provider = tracing or tracer_provider(settings, NAME)
    service = build_service(NAME, settings, provider)
    sessions = attach_tables(service, MIGRATIONS)  # the API tokens
    decisions = Decisions()
    decisions.subscribe(service.broker)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.api_token:
            log.warning("no BOXOPS_API_TOKEN: anyone who reaches %s may do anything", settings.host)
        await service.start()
        yield
        await service.stop()

    # /docs and /redoc load their scripts from the package, not a CDN: they work offline.
    app = FastAPIOffline(title="boxops", version="0.1.0", lifespan=lifespan)
    app.state.service = service
    app.state.settings = settings
    app.state.tokens = sessions
    app.state.decisions = decisions
    app.state.login_links = login_links.LoginLinks()
    app.state.hook_limits = RateLimits(settings.hook_rate_per_minute, settings.hook_burst)
    app.middleware("http")(_traced(provider))
    app.add_middleware(EncodedSlashes)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(InternalErrors, logger=__name__)  # outermost: after tracing's span
    app.add_exception_handler(RequestValidationError, invalid_request)
    # Each route names the scope it needs (scopes.needs); `authorized` checks it.
    modules = (
        runs,
        streams,
        triggers,
        events,
        registry,
        sdk,
        artifacts,
        tokens,
        dlq,
        login_links,
        executors,
    )
    for module in (*modules, alert_hooks, hooks):
        app.include_router(
            module.router, prefix="/v1", dependencies=[Depends(authorized)], responses=ERRORS
        )
    # After the alert hooks (their paths first), and with no token: a generic hook's
    # signature authenticates each delivery (signed_hooks.py).
    app.include_router(signed_hooks.router, prefix="/v1", responses=ERRORS)

    app.include_router(site.router)  # the web UI: its own login (ui/session.py)
    app.mount("/static", site.static, name="static")
    # What the pages follow (live.py): /v1 routes like those above.
    app.include_router(
        live_streams, prefix="/v1", dependencies=[Depends(authorized)], responses=ERRORS
    )

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


async def _http_error(request: Request, error: Exception) -> Response:
    """An HTTP error: a page of the UI shows it as a page; the API answers it as JSON."""
    if isinstance(error, StarletteHTTPException) and render.is_page(request.url.path):
        return render.problem(request, error.status_code, str(error.detail))
    return await unrouted(request, error)


def _traced(
    provider: TracerProvider | None,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    spans = tracer(provider, "boxops.gateway")

    async def middleware(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        name = f"{request.method} {request.url.path}"
        with spans.start_as_current_span(name, kind=SpanKind.SERVER) as span:
            response = await call_next(request)
            span.set_attribute("http.status_code", response.status_code)
            return response

    return middleware
