import asyncio

from services.scheduler.app import build_app
from services.scheduler.settings import SchedulerSettings
from shared.service import configure_logging, serve


def main() -> None:
    configure_logging()
    asyncio.run(serve(build_app(SchedulerSettings())))


if __name__ == "__main__":
    main()
