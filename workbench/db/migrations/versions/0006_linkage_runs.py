"""Linkage: columns owners grant for linkage only, and a record of every governed linkage run.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("grants") as batch:
        batch.add_column(sa.Column("linkage", sa.JSON()))
    op.create_table(
        "linkage_runs",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("left_dataset", sa.String(64), nullable=False),
        sa.Column("right_dataset", sa.String(64)),
        sa.Column("engine", sa.String(20), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("quality", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(63), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_linkage_runs"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name="fk_linkage_runs_project_id_projects"),
        sa.ForeignKeyConstraint(["left_dataset"], ["datasets.id"], name="fk_linkage_runs_left_dataset_datasets"),
        sa.ForeignKeyConstraint(["right_dataset"], ["datasets.id"], name="fk_linkage_runs_right_dataset_datasets"),
        sa.ForeignKeyConstraint(["created_by"], ["people.username"], name="fk_linkage_runs_created_by_people"),
    )
    op.create_index("ix_linkage_runs_project_id", "linkage_runs", ["project_id"])


def downgrade() -> None:
    op.drop_table("linkage_runs")
    with op.batch_alter_table("grants") as batch:
        batch.drop_column("linkage")
