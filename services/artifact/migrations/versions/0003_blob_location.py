"""Where a blob's bytes lie when not under their content key (big S3 uploads stay put).

A downgrade loses where those blobs are: their bytes stay under blobs/uploads/, unread.

Revision ID: artifact_0003
Revises: artifact_0002
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "artifact_0003"
down_revision = "artifact_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("blobs") as table:
        table.add_column(sa.Column("location", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("blobs") as table:
        table.drop_column("location")
