"""Notifications triggers send, and each attempt to deliver them.

Revision ID: trigger_0005
Revises: trigger_0004
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "trigger_0005"
down_revision = "trigger_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("trigger", sa.String(), nullable=False),
        sa.Column("notify", sa.JSON(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dead_lettered", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    for column in ("trigger", "state", "due_at"):
        op.create_index(f"ix_deliveries_{column}", "deliveries", [column])
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("delivery", sa.String(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False, server_default=""),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.UniqueConstraint("delivery", "attempt", name="uq_attempts_delivery"),
    )
    op.create_index("ix_delivery_attempts_delivery", "delivery_attempts", ["delivery"])


def downgrade() -> None:
    op.drop_table("delivery_attempts")
    op.drop_table("deliveries")
