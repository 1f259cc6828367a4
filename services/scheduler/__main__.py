import asyncio

from services.scheduler.app import build_app
from services.scheduler.settings import SchedulerSettings
from shared.logs import configure_logging
from shared.service import serve


def main() -> None:
    settings = SchedulerSettings()
    configure_logging("scheduler", settings)
    asyncio.run(serve(build_app(settings)))


if __name__ == "__main__":
    main()
