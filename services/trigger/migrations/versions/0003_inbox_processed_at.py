"""An index on when the inbox saw each event: the retention sweep deletes old rows by it.

Revision ID: trigger_0003
Revises: trigger_0002
Create Date: 2026-12-07
"""

from alembic import op

revision = "trigger_0003"
down_revision = "trigger_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_inbox_processed_at", "inbox", ["processed_at"])


def downgrade() -> None:
    op.drop_index("ix_inbox_processed_at", table_name="inbox")
