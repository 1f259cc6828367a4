"""A server fault answers `internal error, id …` and nothing of the exception: no SQL, no
parameters, no trace. The log has all of it under the same id (issue 16 #6)."""

import logging
import re

import asyncpg
import pytest

from tests.conftest import PG_URL
from tests.integration.registry.conftest import Registry

ID = re.compile(r"internal error, id ([0-9a-f-]{36})")


async def drop_datasets(registry: Registry) -> None:
    """Break the registry's database under it: every dataset query now fails in SQL."""
    settings = registry.service.settings
    url = settings.database_url("registry")
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url.split(":///", 1)[1]) as connection:
            connection.execute("DROP TABLE dataset_files")
            connection.execute("DROP TABLE staged_files")
            connection.execute("DROP TABLE dataset_versions")
            connection.execute("DROP TABLE datasets")
        return
    connection = await asyncpg.connect(PG_URL)
    await connection.execute(f'DROP TABLE "{settings.db_schema}".datasets CASCADE')
    await connection.close()


async def test_a_database_fault_answers_an_id_and_logs_the_rest(
    registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    await drop_datasets(registry)

    with caplog.at_level(logging.ERROR):
        response = await registry.http.get("/v1/datasets", params={"prefix": "secret-value"})

    assert response.status_code == 500
    body = response.json()
    assert set(body) == {"detail"}
    found = ID.fullmatch(body["detail"])
    assert found, body
    assert "SELECT" not in response.text and "secret-value" not in response.text
    logged = [r for r in caplog.records if found.group(1) in r.getMessage()]
    assert logged, [r.getMessage() for r in caplog.records]
    assert logged[0].exc_info is not None
    assert "datasets" in str(logged[0].exc_info[1])  # the statement, in the log only
