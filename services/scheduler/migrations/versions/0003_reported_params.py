"""The params a run's program reported, kept apart from the params it was asked to run with,
so a retry asks again for only the requested ones.

Revision ID: scheduler_0003
Revises: scheduler_0002
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "scheduler_0003"
down_revision = "scheduler_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Runs recorded before this keep their merged params; they reported nothing apart.
    with op.batch_alter_table("runs") as batch:
        batch.add_column(
            sa.Column("reported_params", sa.JSON(), nullable=False, server_default="{}")
        )


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("reported_params")
