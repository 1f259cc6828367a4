import asyncio

from services.artifact.app import build_app
from shared.service import configure_logging, serve
from shared.settings import BoxopsSettings

configure_logging()
asyncio.run(serve(build_app(BoxopsSettings())))
