from services.gateway.app import build_app
from services.gateway.listen import serve
from services.gateway.settings import GatewaySettings
from shared.logs import configure_logging


def main() -> None:
    settings = GatewaySettings()
    configure_logging("gateway", settings)
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
