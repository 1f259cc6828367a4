"""What a run's processes used (peaks and totals sampled by the executor) and the GPUs it
held, once it ended.

Revision ID: scheduler_0007
Revises: scheduler_0006
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "scheduler_0007"
down_revision = "scheduler_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("usage", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("devices", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("devices")
        batch.drop_column("usage")
