"""Datasets and versions, models, versions and aliases, components, pipelines, lineage.

Revision ID: registry_0002
Revises: registry_0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "registry_0002"
down_revision = "registry_0001"
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True)


def _json(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.JSON(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "datasets",
        _id(),
        sa.Column("name", sa.String(), nullable=False, unique=True),
        sa.Column("type", sa.String(), nullable=False, server_default="other"),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        _json("tags"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "dataset_versions",
        _id(),
        sa.Column("dataset_id", sa.Integer(), nullable=False, index=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("identity", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(), nullable=True),
        sa.Column("uri", sa.Text(), nullable=True),
        sa.Column("managed", sa.Boolean(), nullable=False),
        sa.Column("file_count", sa.Integer(), nullable=False, server_default="0"),
        _json("meta"),
        _json("pin"),
        _json("changes", nullable=True),
        _json("parents"),
        sa.Column("previous_version", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.String(), nullable=True, index=True),
        sa.Column("source", sa.String(), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("dataset_id", "version"),
        sa.UniqueConstraint("dataset_id", "identity"),
    )
    op.create_table(
        "dataset_files",
        sa.Column("version_id", sa.Integer(), primary_key=True),
        sa.Column("path", sa.Text(), primary_key=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
    )
    op.create_table(
        "staged_files",
        sa.Column("upload_id", sa.String(), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        _json("files"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "models",
        _id(),
        sa.Column("name", sa.String(), nullable=False, unique=True),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        _json("tags"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "model_versions",
        _id(),
        sa.Column("model_id", sa.Integer(), nullable=False, index=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(), nullable=False),
        _json("files"),
        sa.Column("format", sa.String(), nullable=True),
        sa.Column("framework", sa.String(), nullable=True),
        sa.Column("run_id", sa.String(), nullable=True, index=True),
        _json("metrics"),
        _json("meta"),
        _json("parents"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("model_id", "version"),
        sa.UniqueConstraint("model_id", "digest"),
    )
    op.create_table(
        "model_aliases",
        sa.Column("model_id", sa.Integer(), primary_key=True),
        sa.Column("alias", sa.String(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    for table in ("components", "pipelines"):
        extra = (
            [sa.Column("type", sa.String(), nullable=False)]
            if table == "components"
            else [_json("components")]
        )
        op.create_table(
            table,
            _id(),
            sa.Column("name", sa.String(), nullable=False, index=True),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("digest", sa.String(), nullable=False),
            sa.Column("description", sa.Text(), nullable=False, server_default=""),
            _json("spec"),
            *extra,
            sa.Column("source", sa.Text(), nullable=False, server_default=""),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.UniqueConstraint("name", "version"),
            sa.UniqueConstraint("name", "digest"),
        )
    op.create_table(
        "lineage_runs",
        sa.Column("run_id", sa.String(), primary_key=True),
        sa.Column("component", sa.String(), nullable=True),
        sa.Column("pipeline", sa.String(), nullable=True),
        sa.Column("parent_run_id", sa.String(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "lineage_edges",
        sa.Column("src", sa.Text(), primary_key=True),
        sa.Column("dst", sa.Text(), primary_key=True, index=True),
    )


def downgrade() -> None:
    for table in (
        "lineage_edges",
        "lineage_runs",
        "pipelines",
        "components",
        "model_aliases",
        "model_versions",
        "models",
        "staged_files",
        "dataset_files",
        "dataset_versions",
        "datasets",
    ):
        op.drop_table(table)
