"""Migration scheduler_0005 fills what the run list filters and sorts by from the runs
recorded before it: times from transitions, inputs and searchable text from the run's
row, each metric's last value from its points."""

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Connection

from shared.migrate import alembic_config, upgrade
from tests.integration.test_migrations import alembic, on_database

VERSIONS = Path("services/scheduler/migrations/versions")
T = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _seed(connection: Connection) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO runs (id, kind, state, reason, command, env, resources, priority, "
            "cause, params, reported_params, inputs, declared_outputs, outputs, spec, backend, "
            "network, selector, retries, retry_backoff_s, attempt, error, provenance, metrics, "
            "tags, artifacts, component, created_at, updated_at) VALUES ('r1', 'component', "
            "'completed', 'Exit code 0', '[\"python\", \"Train.py\"]', '{}', '{}', 0, '{}', "
            "'{}', '{}', :inputs, '{}', '{}', '{}', 'local', false, '{}', 0, 5, 1, '', '{}', "
            "'{}', '{}', '[]', 'train@1', :at, :at)"
        ),
        {"inputs": '{"data": {"type": "dataset", "name": "iris", "version": 2}}', "at": T},
    )
    transitions = [("running", T.replace(second=1)), ("completed", T.replace(second=4))]
    for state, at in transitions:
        connection.execute(
            sa.text(
                "INSERT INTO run_transitions (run_id, state, at, reason) "
                "VALUES ('r1', :state, :at, '')"
            ),
            {"state": state, "at": at},
        )
    for number, (step, value) in enumerate([(1, 0.5), (3, 0.9), (2, 0.7)]):
        connection.execute(
            sa.text(
                "INSERT INTO run_metrics (id, run_id, name, step, value, at) "
                "VALUES (:id, 'r1', 'accuracy', :step, :value, :at)"
            ),
            {"id": f"p{number}", "step": step, "value": value, "at": T},
        )


async def test_runs_recorded_before_are_listed_by_their_inputs_text_times_and_metrics(
    db: tuple[str, str],
) -> None:
    await alembic(command.upgrade, alembic_config(*db, VERSIONS), "scheduler_0003")
    await on_database(db, _seed)

    await upgrade(*db, VERSIONS)

    def read(connection: Connection) -> list[list[tuple[object, ...]]]:
        queries = [
            "SELECT duration_s FROM runs",
            "SELECT run_id, input, type, name, version FROM run_inputs",
            "SELECT run_id, text FROM run_texts",
            "SELECT run_id, name, value, step FROM run_last_metrics",
        ]
        return [[tuple(row) for row in connection.execute(sa.text(q))] for q in queries]

    durations, inputs, texts, metrics = await on_database(db, read)
    assert durations == [(3.0,)]
    assert inputs == [("r1", "data", "dataset", "iris", 2)]
    assert texts == [("r1", "train@1\n\nexit code 0\npython train.py")]
    assert metrics == [("r1", "accuracy", 0.9, 3)]
