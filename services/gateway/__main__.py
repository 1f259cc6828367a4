import uvicorn

from services.gateway.app import build_app
from services.gateway.settings import GatewaySettings
from shared.logs import configure_logging


def main() -> None:
    settings = GatewaySettings()
    configure_logging("gateway", settings)
    uvicorn.run(
        build_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        log_config=None,  # uvicorn's lines go through the service's own logging
    )


if __name__ == "__main__":
    main()
