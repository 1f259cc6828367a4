import asyncio

from services.registry.app import build_app
from services.registry.settings import RegistrySettings
from shared.service import configure_logging, serve


def main() -> None:
    configure_logging()
    asyncio.run(serve(build_app(RegistrySettings())))


if __name__ == "__main__":
    main()
