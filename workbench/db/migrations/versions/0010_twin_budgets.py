"""Synthetic twins drawn from differentially private marginals: each dataset's twin budget (set by its owner;
absent, the defaults) and one row per twin made with the ε it spent.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "twin_budgets",
        sa.Column("dataset_id", sa.String(64), nullable=False),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("per_twin", sa.Float(), nullable=False),
        sa.Column("set_by", sa.String(63), nullable=False),
        sa.Column("set_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("dataset_id", name="pk_twin_budgets"),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], name="fk_twin_budgets_dataset_id_datasets"),
        sa.ForeignKeyConstraint(["set_by"], ["people.username"], name="fk_twin_budgets_set_by_people"),
        sa.CheckConstraint("epsilon >= 0 AND per_twin > 0", name="ck_twin_budgets_positive"),
    )
    op.create_table(
        "twin_spends",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("dataset_id", sa.String(64), nullable=False),
        sa.Column("version", sa.String(200), nullable=False),
        sa.Column("username", sa.String(63), nullable=False),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_twin_spends"),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], name="fk_twin_spends_dataset_id_datasets"),
        sa.ForeignKeyConstraint(["username"], ["people.username"], name="fk_twin_spends_username_people"),
        sa.CheckConstraint("epsilon >= 0", name="ck_twin_spends_positive"),
    )
    op.create_index("ix_twin_spends_dataset_id", "twin_spends", ["dataset_id"])


def downgrade() -> None:
    op.drop_table("twin_spends")
    op.drop_table("twin_budgets")
