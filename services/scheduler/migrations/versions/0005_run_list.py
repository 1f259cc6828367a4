"""What the run list filters and sorts by: each run's inputs, the last value of each of its
metrics, when it last began running and ended, and an index per keyset order.

Revision ID: scheduler_0005
Revises: scheduler_0004
Create Date: 2026-12-07
"""

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "scheduler_0005"
down_revision = "scheduler_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("running_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("duration_s", sa.Float(), nullable=True))
    op.create_index("ix_runs_created_at_id", "runs", ["created_at", "id"])
    op.create_index("ix_runs_state_created_at_id", "runs", ["state", "created_at", "id"])
    op.create_index("ix_runs_running_at_id", "runs", ["running_at", "id"])
    op.create_index("ix_runs_duration_s_id", "runs", ["duration_s", "id"])
    op.create_table(
        "run_inputs",
        sa.Column("run_id", sa.String(), primary_key=True),
        sa.Column("input", sa.String(), primary_key=True),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
    )
    op.create_index("ix_run_inputs_type_name_version", "run_inputs", ["type", "name", "version"])
    op.create_table(
        "run_texts",
        sa.Column("run_id", sa.String(), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
    )
    op.create_table(
        "run_last_metrics",
        sa.Column("run_id", sa.String(), primary_key=True),
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_run_last_metrics_name_value", "run_last_metrics", ["name", "value", "run_id"]
    )
    _backfill()


def _backfill() -> None:
    """The runs recorded before: their times from their transitions, inputs and searchable
    text from their row, last metric values from their points."""
    op.execute(
        "UPDATE runs SET running_at = (SELECT max(t.at) FROM run_transitions t "
        "WHERE t.run_id = runs.id AND t.state = 'running'), "
        "ended_at = (SELECT max(t.at) FROM run_transitions t "
        "WHERE t.run_id = runs.id AND t.state IN ('completed', 'failed', 'aborted'))"
    )
    op.execute(
        "INSERT INTO run_last_metrics (run_id, name, value, step, at) "
        "SELECT run_id, name, value, step, at FROM (SELECT run_id, name, value, step, at, "
        "row_number() OVER (PARTITION BY run_id, name "
        "ORDER BY coalesce(step, -1) DESC, at DESC) AS r FROM run_metrics) AS ranked "
        "WHERE r = 1"
    )
    bind = op.get_bind()
    runs = sa.table(
        "runs",
        sa.column("id", sa.String()),
        sa.column("inputs", sa.JSON()),
        sa.column("running_at", sa.DateTime(timezone=True)),
        sa.column("ended_at", sa.DateTime(timezone=True)),
        sa.column("duration_s", sa.Float()),
    )
    inputs, texts = [], []
    read = sa.select(runs.c.id, runs.c.inputs, *(sa.column(c) for c in SEARCHED))
    for run_id, given, *searched in bind.execute(read):
        for name, ref in (_json(given) or {}).items():
            inputs.append(_input_row(run_id, name, ref))
        texts.append({"run_id": run_id, "text": _text(*searched)})
    for table, rows in (("run_inputs", inputs), ("run_texts", texts)):
        if rows:
            bind.execute(sa.table(table, *map(sa.column, rows[0])).insert(), rows)
    timed = sa.select(runs.c.id, runs.c.running_at, runs.c.ended_at).where(
        runs.c.running_at.is_not(None), runs.c.ended_at.is_not(None)
    )
    for run_id, running_at, ended_at in bind.execute(timed).all():
        seconds = (ended_at - running_at).total_seconds()
        bind.execute(runs.update().where(runs.c.id == run_id).values(duration_s=seconds))


SEARCHED = ("component", "pipeline", "reason", "command")


def _json(value: object) -> Any:
    return value if not isinstance(value, str) else json.loads(value)


def _text(component: str | None, pipeline: str | None, reason: str, command: object) -> str:
    """As services/scheduler/texts.py makes it (frozen here, as a migration must be)."""
    words = " ".join(_json(command) or [])
    return "\n".join((component or "", pipeline or "", reason or "", words)).lower()


def _input_row(run_id: str, name: str, ref: dict[str, object]) -> dict[str, object]:
    return {
        "run_id": run_id,
        "input": name,
        "type": ref.get("type"),
        "name": ref.get("name"),
        "version": ref.get("version"),
    }


def downgrade() -> None:
    op.drop_table("run_last_metrics")
    op.drop_table("run_texts")
    op.drop_table("run_inputs")
    op.drop_index("ix_runs_duration_s_id", "runs")
    op.drop_index("ix_runs_running_at_id", "runs")
    op.drop_index("ix_runs_state_created_at_id", "runs")
    op.drop_index("ix_runs_created_at_id", "runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("duration_s")
        batch.drop_column("ended_at")
        batch.drop_column("running_at")
