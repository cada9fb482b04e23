"""Clerical review decisions on the person index's uncertain pairs: one row per decision ("match" or "non-match"),
pending until the next index update applies it (``applied_in``, with what it did: ``outcome``).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "person_index_decisions",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("dataset_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("record_row", sa.Integer(), nullable=False),
        sa.Column("candidate", sa.String(40), nullable=False),
        sa.Column("fingerprint", sa.String(16), nullable=False),
        sa.Column("candidate_fingerprint", sa.String(16), nullable=True),
        sa.Column("decision", sa.String(10), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(63), nullable=False),
        sa.Column("decided_at", TZ, nullable=False),
        sa.Column("applied_in", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(10), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_person_index_decisions"),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"],
                                name="fk_person_index_decisions_dataset_id_datasets", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["decided_by"], ["people.username"],
                                name="fk_person_index_decisions_decided_by_people"),
        sa.ForeignKeyConstraint(["applied_in"], ["person_index_updates.id"],
                                name="fk_person_index_decisions_applied_in_person_index_updates", ondelete="CASCADE"),
        sa.CheckConstraint("kind IN ('person', 'record')", name="ck_person_index_decisions_kind"),
        sa.CheckConstraint("decision IN ('match', 'non-match')", name="ck_person_index_decisions_decision"),
        sa.CheckConstraint("outcome IN ('merged', 'split', 'unchanged', 'void')",
                           name="ck_person_index_decisions_outcome"),
    )
    op.create_index("ix_person_index_decisions_dataset_id", "person_index_decisions", ["dataset_id"])


def downgrade() -> None:
    op.drop_index("ix_person_index_decisions_dataset_id", "person_index_decisions")
    op.drop_table("person_index_decisions")
