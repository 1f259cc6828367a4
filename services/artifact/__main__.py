import asyncio

from services.artifact.app import build_app
from shared.service import configure_logging, serve
from shared.settings import BoxopsSettings


def main() -> None:
    configure_logging()
    asyncio.run(serve(build_app(BoxopsSettings())))


if __name__ == "__main__":
    main()
