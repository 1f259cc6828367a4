import uvicorn

from services.gateway.app import build_app
from services.gateway.settings import GatewaySettings
from shared.service import configure_logging


def main() -> None:
    configure_logging()
    settings = GatewaySettings()
    uvicorn.run(build_app(settings), host=settings.host, port=settings.port, log_level="warning")


if __name__ == "__main__":
    main()
