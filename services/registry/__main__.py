import asyncio

from services.registry.app import build_app
from services.registry.settings import RegistrySettings
from shared.logs import configure_logging
from shared.service import serve


def main() -> None:
    settings = RegistrySettings()
    configure_logging("registry", settings)
    asyncio.run(serve(build_app(settings)))


if __name__ == "__main__":
    main()
