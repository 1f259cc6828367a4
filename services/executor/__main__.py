import asyncio

from services.executor.app import build_app
from services.executor.settings import ExecutorSettings
from shared.service import configure_logging, serve

configure_logging()
asyncio.run(serve(build_app(ExecutorSettings())))
