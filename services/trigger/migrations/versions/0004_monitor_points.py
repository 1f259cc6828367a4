"""The points each monitor saw, for its chart.

Revision ID: trigger_0004
Revises: trigger_0003
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "trigger_0004"
down_revision = "trigger_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitor_points",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("monitor", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=True),
    )
    op.create_index("ix_monitor_points_monitor", "monitor_points", ["monitor"])
    op.create_index("ix_monitor_points_at", "monitor_points", ["at"])


def downgrade() -> None:
    op.drop_table("monitor_points")
