"""A dataset version's state: external data the registry hashes is `pinning` until it is
`pinned`, or `failed` with the reason (outside the budget, a digest mismatch).

Revision ID: registry_0004
Revises: registry_0003
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "registry_0004"
down_revision = "registry_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dataset_versions") as table:
        table.add_column(sa.Column("state", sa.String(), nullable=False, server_default="pinned"))
        table.add_column(sa.Column("state_reason", sa.Text(), nullable=True))
        table.create_index("ix_dataset_versions_state", ["state"])


def downgrade() -> None:
    with op.batch_alter_table("dataset_versions") as table:
        table.drop_index("ix_dataset_versions_state")
        table.drop_column("state_reason")
        table.drop_column("state")
