"""Dataset versions: one row per registration of a dataset's data (number, when, by whom, rows, the stored file's
SHA-256 or a source's snapshot marker); grants may be pinned to a version; loads record the version they read.
Datasets that already hold data get version 1 (their checksum is unknown until data is registered again).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dataset_versions",
        sa.Column("dataset_id", sa.String(64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=True),
        sa.Column("checksum", sa.String(64), nullable=True),
        sa.Column("marker", sa.String(500), nullable=True),
        sa.Column("mode", sa.String(20), nullable=False, server_default="copy"),
        sa.Column("registered_by", sa.String(63), nullable=False),
        sa.Column("registered_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("dataset_id", "number", name="pk_dataset_versions"),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], name="fk_dataset_versions_dataset_id_datasets",
                                ondelete="CASCADE"),
        sa.CheckConstraint("number >= 1", name="ck_dataset_versions_number"),
    )
    op.add_column("grants", sa.Column("version", sa.Integer(), nullable=True))
    op.add_column("data_loads", sa.Column("version", sa.Integer(), nullable=True))
    # data registered before versions were kept is version 1, registered when the entry last changed
    op.execute("INSERT INTO dataset_versions (dataset_id, number, row_count, mode, registered_by, registered_at) "
               "SELECT d.id, 1, d.row_count, 'copy', d.registered_by, d.updated_at FROM datasets d "
               "WHERE d.has_data = 1")


def downgrade() -> None:
    with op.batch_alter_table("data_loads") as batch:
        batch.drop_column("version")
    with op.batch_alter_table("grants") as batch:
        batch.drop_column("version")
    op.drop_table("dataset_versions")
