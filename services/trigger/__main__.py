import asyncio

from services.trigger.app import build_app
from services.trigger.settings import TriggerSettings
from shared.logs import configure_logging
from shared.service import serve


def main() -> None:
    settings = TriggerSettings()
    configure_logging("trigger", settings)
    asyncio.run(serve(build_app(settings)))


if __name__ == "__main__":
    main()
