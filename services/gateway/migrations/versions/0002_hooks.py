"""Generic hooks (name, secret, subject, mapping) and the deliveries hooks remember.

Revision ID: gateway_0002
Revises: gateway_0001
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "gateway_0002"
down_revision = "gateway_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hooks",
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("secret", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "hook_deliveries",
        sa.Column("hook", sa.String(), primary_key=True),
        sa.Column("key", sa.String(), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_hook_deliveries_seen_at", "hook_deliveries", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_hook_deliveries_seen_at", "hook_deliveries")
    op.drop_table("hook_deliveries")
    op.drop_table("hooks")
