"""Outputs: disclosure-checked tables and models recorded in a project for later output checking.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outputs",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("method", sa.String(40), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("exception", sa.Text()),
        sa.Column("derived_from", sa.JSON(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(63), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outputs"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name="fk_outputs_project_id_projects"),
        sa.ForeignKeyConstraint(["created_by"], ["people.username"], name="fk_outputs_created_by_people"),
        sa.CheckConstraint("status IN ('pass', 'fail', 'review')", name="ck_outputs_status"),
    )
    op.create_index("ix_outputs_project_id", "outputs", ["project_id"])


def downgrade() -> None:
    op.drop_table("outputs")
