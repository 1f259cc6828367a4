import asyncio

from services.trigger.app import build_app
from services.trigger.settings import TriggerSettings
from shared.service import configure_logging, serve


def main() -> None:
    configure_logging()
    asyncio.run(serve(build_app(TriggerSettings())))


if __name__ == "__main__":
    main()
