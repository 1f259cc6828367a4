"""The outbox and the inbox.

Revision ID: artifact_0001
Revises:
Create Date: 2026-11-26
"""

from alembic import op

from shared.outbox import create_tables

revision = "artifact_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_tables()


def downgrade() -> None:
    op.drop_table("inbox")
    op.drop_table("outbox")
