"""Datasets read in place: one row per dataset whose data stays at its source (a file, a folder of Parquet files,
a database table or a read-only query), with what the workbench may show of it. A database URL's credentials are
never stored here: the full URL is kept in the vault's protected credentials file (``catalogue.in_place``).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dataset_sources",
        sa.Column("dataset_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("table_name", sa.String(200), nullable=True),
        sa.Column("query", sa.Text(), nullable=True),
        sa.Column("registered_by", sa.String(63), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("dataset_id", name="pk_dataset_sources"),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], name="fk_dataset_sources_dataset_id_datasets",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["registered_by"], ["people.username"],
                                name="fk_dataset_sources_registered_by_people"),
        sa.CheckConstraint("kind IN ('csv', 'parquet', 'table', 'query')", name="ck_dataset_sources_kind"),
    )


def downgrade() -> None:
    op.drop_table("dataset_sources")
