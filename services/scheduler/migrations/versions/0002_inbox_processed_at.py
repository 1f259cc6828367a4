"""An index on when the inbox saw each event: the retention sweep deletes old rows by it.

Revision ID: scheduler_0002
Revises: scheduler_0001
Create Date: 2026-12-07
"""

from alembic import op

revision = "scheduler_0002"
down_revision = "scheduler_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_inbox_processed_at", "inbox", ["processed_at"])


def downgrade() -> None:
    op.drop_index("ix_inbox_processed_at", table_name="inbox")
