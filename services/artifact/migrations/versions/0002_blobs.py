"""Blobs, uploads in progress, named keys.

Revision ID: artifact_0002
Revises: artifact_0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "artifact_0002"
down_revision = "artifact_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(), primary_key=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("media_type", sa.String(), nullable=True),
        sa.Column("preview_kind", sa.String(), nullable=True),
        sa.Column("preview_status", sa.String(), nullable=False, server_default="none"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "uploads",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=True),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("media_type", sa.String(), nullable=True),
        sa.Column("multipart_id", sa.String(), nullable=True),
        sa.Column("part_bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_uploads_expires_at", "uploads", ["expires_at"])
    op.create_table(
        "names",
        sa.Column("key", sa.String(), primary_key=True),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_names_sha256", "names", ["sha256"])


def downgrade() -> None:
    op.drop_table("names")
    op.drop_table("uploads")
    op.drop_table("blobs")
