"""Triggers and monitors, their firings and state.

Revision ID: trigger_0002
Revises: trigger_0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "trigger_0002"
down_revision = "trigger_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "triggers",
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("kind", sa.String(), nullable=False, server_default="trigger"),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "firings",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("trigger", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_id", sa.String(), nullable=True),
        sa.Column("tick", sa.DateTime(timezone=True), nullable=True),
        sa.Column("depth", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("command", sa.JSON(), nullable=True),
        sa.Column("run_id", sa.String(), nullable=True),
        sa.Column("run_state", sa.String(), nullable=True),
        sa.UniqueConstraint("trigger", "key", name="uq_firings_trigger_key"),
    )
    for column in ("trigger", "status", "at", "run_id"):
        op.create_index(f"ix_firings_{column}", "firings", [column])
    op.create_table(
        "all_of_seen",
        sa.Column("trigger", sa.String(), primary_key=True),
        sa.Column("condition", sa.String(), primary_key=True),
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "schedule_state",
        sa.Column("trigger", sa.String(), primary_key=True),
        sa.Column("last_tick", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "monitor_state",
        sa.Column("monitor", sa.String(), primary_key=True),
        sa.Column("state", sa.JSON(), nullable=False),
    )
    op.create_table(
        "monitor_events",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("monitor", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=True),
    )
    op.create_index("ix_monitor_events_monitor", "monitor_events", ["monitor"])


def downgrade() -> None:
    for table in (
        "monitor_events",
        "monitor_state",
        "schedule_state",
        "all_of_seen",
        "firings",
        "triggers",
    ):
        op.drop_table(table)
