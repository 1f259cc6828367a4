"""The artifact service."""

import asyncio

from services.artifact.app import build_app
from services.artifact.settings import ArtifactSettings
from shared.logs import configure_logging
from shared.service import serve


def main() -> None:
    settings = ArtifactSettings()
    configure_logging("artifact", settings)
    asyncio.run(serve(build_app(settings)))


if __name__ == "__main__":
    main()
