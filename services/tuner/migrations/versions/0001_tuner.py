"""The outbox and the inbox; studies (one per sweep run) and their trials.

Revision ID: tuner_0001
Revises:
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "tuner_0001"
down_revision = None
branch_labels = None
depends_on = None


def _json(name: str) -> sa.Column:
    return sa.Column(name, sa.JSON(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_outbox_published_at", "outbox", ["published_at"])
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(), primary_key=True),
        sa.Column("event_id", sa.String(), primary_key=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_inbox_processed_at", "inbox", ["processed_at"])
    op.create_table(
        "studies",
        sa.Column("run_id", sa.String(), primary_key=True),
        sa.Column("sweep", sa.String(), nullable=False),
        _json("spec"),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("target_kind", sa.String(), nullable=False),
        _json("params"),
        _json("inputs"),
        _json("cause"),
        sa.Column("state", sa.String(), nullable=False, index=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "trials",
        sa.Column("run_id", sa.String(), primary_key=True),
        sa.Column("study_id", sa.String(), nullable=False, index=True),
        sa.Column("number", sa.Integer(), nullable=False),
        _json("params"),
        _json("system_attrs"),
        sa.Column("state", sa.String(), nullable=False, index=True),
        sa.Column("value", sa.Float(), nullable=True),
        _json("steps"),
        _json("metrics"),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("trials")
    op.drop_table("studies")
    op.drop_table("inbox")
    op.drop_table("outbox")
