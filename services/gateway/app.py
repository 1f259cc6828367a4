"""The gateway's wiring: a FastAPI app whose lifespan runs its NATS side."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind

from services.gateway import artifacts, events, registry, runs, sdk, triggers
from services.gateway.decisions import Decisions
from services.gateway.invalid import invalid_request
from services.gateway.settings import GatewaySettings
from shared.service import build_service
from shared.telemetry import tracer, tracer_provider

NAME = "gateway"


def build_app(settings: GatewaySettings, *, tracing: TracerProvider | None = None) -> FastAPI:
    provider = tracing or tracer_provider(settings, NAME)
    service = build_service(NAME, settings, provider)
    decisions = Decisions()
    decisions.subscribe(service.broker)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await service.start()
        yield
        await service.stop()

    app = FastAPI(title="boxops", version="0.1.0", lifespan=lifespan)
    app.state.service = service
    app.state.settings = settings
    app.state.decisions = decisions
    app.middleware("http")(_traced(provider))
    app.add_exception_handler(RequestValidationError, invalid_request)
    for module in (runs, triggers, events, registry):
        app.include_router(module.router, prefix="/v1", dependencies=[Depends(_authorized)])
    app.include_router(sdk.router, prefix="/v1")  # run-scoped tokens, checked by the router
    app.include_router(artifacts.router, prefix="/v1", dependencies=[Depends(_authorized)])

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


bearer = HTTPBearer(auto_error=False)


async def _authorized(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    token = request.app.state.settings.api_token
    if token and (credentials is None or credentials.credentials != token):
        raise HTTPException(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})


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
