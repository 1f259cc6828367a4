"""Apply a service's Alembic migrations at start.

One env.py (shared/migrations) serves every service; each service keeps its own
revisions in services/<name>/migrations/versions and its own version table.
"""

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData

ENV_DIR = Path(__file__).parent / "migrations"


def alembic_config(
    url: str, schema: str, versions: Path, metadata: MetaData | None = None
) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ENV_DIR))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(versions))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["schema"] = schema
    config.attributes["metadata"] = metadata  # what autogenerate compares the database with
    return config


async def upgrade(url: str, schema: str, versions: Path) -> None:
    # env.py runs its own event loop, so it goes to a thread of its own.
    await asyncio.to_thread(command.upgrade, alembic_config(url, schema, versions), "head")
