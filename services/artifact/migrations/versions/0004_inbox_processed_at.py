"""An index on when the inbox saw each event: the retention sweep deletes old rows by it.

Revision ID: artifact_0004
Revises: artifact_0003
Create Date: 2026-12-07
"""

from alembic import op

revision = "artifact_0004"
down_revision = "artifact_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_inbox_processed_at", "inbox", ["processed_at"])


def downgrade() -> None:
    op.drop_index("ix_inbox_processed_at", table_name="inbox")
