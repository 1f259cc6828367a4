"""Runs, their transitions and metrics, the outbox and the inbox.

Revision ID: scheduler_0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

JSON_COLUMNS = (
    "env",
    "resources",
    "cause",
    "params",
    "inputs",
    "declared_outputs",
    "outputs",
    "spec",
    "selector",
    "provenance",
    "metrics",
    "tags",
    "artifacts",
)
INDEXED = (
    "state",
    "trigger",
    "component",
    "pipeline",
    "parent_id",
    "concurrency_key",
    "cache_key",
    "executor_id",
    "created_at",
)

revision = "scheduler_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_outbox_published_at", "outbox", ["published_at"])
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(), primary_key=True),
        sa.Column("event_id", sa.String(), primary_key=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("kind", sa.String(), nullable=False, server_default="command"),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("substate", sa.String(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("command", sa.JSON(), nullable=False),
        *[sa.Column(name, sa.JSON(), nullable=False) for name in JSON_COLUMNS],
        sa.Column("priority", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("trigger", sa.String(), nullable=True),
        sa.Column("component", sa.String(), nullable=True),
        sa.Column("pipeline", sa.String(), nullable=True),
        sa.Column("parent_id", sa.String(), nullable=True),
        sa.Column("step", sa.String(), nullable=True),
        sa.Column("image", sa.String(), nullable=True),
        sa.Column("backend", sa.String(), nullable=False, server_default="local"),
        sa.Column("network", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("timeout_s", sa.Float(), nullable=True),
        sa.Column("retries", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("retry_backoff_s", sa.Float(), nullable=False, server_default="5"),
        sa.Column("attempt", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("concurrency_key", sa.String(), nullable=True),
        sa.Column("max_concurrency", sa.Integer(), nullable=True),
        sa.Column("cache_key", sa.String(), nullable=True),
        sa.Column("executor_id", sa.String(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stop_reason", sa.Text(), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False, server_default=""),
        sa.Column("logs", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    for column in INDEXED:
        op.create_index(f"ix_runs_{column}", "runs", [column])
    op.create_table(
        "run_transitions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("substate", sa.String(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
    )
    op.create_index("ix_run_transitions_run_id", "run_transitions", ["run_id"])
    op.create_table(
        "run_metrics",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_run_metrics_run_id", "run_metrics", ["run_id"])


def downgrade() -> None:
    op.drop_table("run_metrics")
    op.drop_table("run_transitions")
    op.drop_table("runs")
    op.drop_table("inbox")
    op.drop_table("outbox")
