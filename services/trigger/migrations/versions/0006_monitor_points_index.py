"""One index over a monitor's points in time order, in place of one on each column: every
read and every trim names the monitor and orders by time, and each index costs an insert.

Revision ID: trigger_0006
Revises: trigger_0005
Create Date: 2026-12-07
"""

from alembic import op

revision = "trigger_0006"
down_revision = "trigger_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_monitor_points_monitor", table_name="monitor_points")
    op.drop_index("ix_monitor_points_at", table_name="monitor_points")
    op.create_index("ix_monitor_points_monitor_at", "monitor_points", ["monitor", "at"])


def downgrade() -> None:
    op.drop_index("ix_monitor_points_monitor_at", table_name="monitor_points")
    op.create_index("ix_monitor_points_monitor", "monitor_points", ["monitor"])
    op.create_index("ix_monitor_points_at", "monitor_points", ["at"])
