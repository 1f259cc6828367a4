import asyncio

from services.executor.app import build_app
from services.executor.settings import ExecutorSettings
from shared.service import configure_logging, serve


def main() -> None:
    configure_logging()
    asyncio.run(serve(build_app(ExecutorSettings())))


if __name__ == "__main__":
    main()
