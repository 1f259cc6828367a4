"""Alembic environment shared by every service (see shared/migrate.py)."""

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from shared.db import create_engine, is_sqlite
from shared.metadata import COMPARE

config = context.config
URL = config.get_main_option("sqlalchemy.url") or ""
SCHEMA = config.attributes.get("schema", "public")
# The service's own tables (its tables.METADATA), for autogenerate and `alembic check`.
METADATA = config.attributes.get("metadata")


def _not_the_version_table(name: str | None, type_: str, _parents: object) -> bool:
    # The version table is named with its schema on PostgreSQL (version_table_schema), and
    # autogenerate only recognises it unqualified: it would propose dropping it.
    return not (type_ == "table" and name == "alembic_version")


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=METADATA,
        version_table_schema=None if is_sqlite(URL) else SCHEMA,
        render_as_batch=is_sqlite(URL),
        include_name=_not_the_version_table,
        **COMPARE,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _migrate() -> None:
    engine = create_engine(URL, SCHEMA)
    async with engine.connect() as connection:
        if not is_sqlite(URL):
            # Replicas may start together: the lock makes one migrate while the others wait.
            await connection.execute(text("SELECT pg_advisory_lock(hashtext(:s))"), {"s": SCHEMA})
            await connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA}"'))
            await connection.commit()
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("boxops migrations run online only")
asyncio.run(_migrate())
