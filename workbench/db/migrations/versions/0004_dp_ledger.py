"""Differential privacy: budgets per dataset (and per project × dataset) and the ledger of spends.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dp_budgets",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("dataset_id", sa.String(64), nullable=False),
        sa.Column("project_id", sa.String(64)),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("delta", sa.Float(), nullable=False),
        sa.Column("set_by", sa.String(63), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dp_budgets"),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], name="fk_dp_budgets_dataset_id_datasets"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name="fk_dp_budgets_project_id_projects"),
        sa.ForeignKeyConstraint(["set_by"], ["people.username"], name="fk_dp_budgets_set_by_people"),
        sa.CheckConstraint("epsilon >= 0 AND delta >= 0 AND delta < 1", name="ck_dp_budgets_positive"),
    )
    op.create_index("ix_dp_budgets_dataset_id", "dp_budgets", ["dataset_id"])
    op.create_table(
        "dp_spends",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("query_id", sa.String(32), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("dataset_id", sa.String(64), nullable=False),
        sa.Column("username", sa.String(63), nullable=False),
        sa.Column("method", sa.String(40), nullable=False),
        sa.Column("query", sa.JSON(), nullable=False),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("delta", sa.Float(), nullable=False),
        sa.Column("output_id", sa.Integer()),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dp_spends"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name="fk_dp_spends_project_id_projects"),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], name="fk_dp_spends_dataset_id_datasets"),
        sa.ForeignKeyConstraint(["username"], ["people.username"], name="fk_dp_spends_username_people"),
        sa.ForeignKeyConstraint(["output_id"], ["outputs.id"], name="fk_dp_spends_output_id_outputs"),
        sa.CheckConstraint("epsilon > 0 AND delta >= 0", name="ck_dp_spends_positive"),
    )
    op.create_index("ix_dp_spends_query_id", "dp_spends", ["query_id"])
    op.create_index("ix_dp_spends_project_id", "dp_spends", ["project_id"])
    op.create_index("ix_dp_spends_dataset_id", "dp_spends", ["dataset_id"])


def downgrade() -> None:
    op.drop_table("dp_spends")
    op.drop_table("dp_budgets")
