"""The artifact service."""

import asyncio

from services.artifact.app import build_app
from services.artifact.settings import ArtifactSettings
from shared.service import configure_logging, serve


def main() -> None:
    configure_logging()
    asyncio.run(serve(build_app(ArtifactSettings())))


if __name__ == "__main__":
    main()
