import asyncio

from services.tuner.app import build_app
from services.tuner.settings import TunerSettings
from shared.logs import configure_logging
from shared.service import serve


def main() -> None:
    settings = TunerSettings()
    configure_logging("tuner", settings)
    asyncio.run(serve(build_app(settings)))


if __name__ == "__main__":
    main()
