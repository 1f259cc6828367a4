"""A run's metric points indexed by run, name and step: a chart reads one metric's series
(counted, its ends found, its slices' lowest and highest points) from the index's range
instead of every point of the run. It leads with the run, so it replaces the run's index.

Revision ID: scheduler_0004
Revises: scheduler_0003
Create Date: 2026-12-07
"""

from alembic import op

revision = "scheduler_0004"
down_revision = "scheduler_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_run_metrics_series", "run_metrics", ["run_id", "name", "step"])
    op.drop_index("ix_run_metrics_run_id", "run_metrics")


def downgrade() -> None:
    op.create_index("ix_run_metrics_run_id", "run_metrics", ["run_id"])
    op.drop_index("ix_run_metrics_series", "run_metrics")
