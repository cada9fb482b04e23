"""Skills training: cohorts, their members and assigned exercises, and every attempt with its feedback.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_cohorts",
        sa.Column("id", sa.String(64)),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(63), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_training_cohorts"),
        sa.ForeignKeyConstraint(["created_by"], ["people.username"], name="fk_training_cohorts_created_by_people"),
    )
    op.create_table(
        "training_members",
        sa.Column("cohort_id", sa.String(64)),
        sa.Column("username", sa.String(63)),
        sa.PrimaryKeyConstraint("cohort_id", "username", name="pk_training_members"),
        sa.ForeignKeyConstraint(["cohort_id"], ["training_cohorts.id"], ondelete="CASCADE",
                                name="fk_training_members_cohort_id_training_cohorts"),
        sa.ForeignKeyConstraint(["username"], ["people.username"], name="fk_training_members_username_people"),
    )
    op.create_table(
        "training_assignments",
        sa.Column("cohort_id", sa.String(64)),
        sa.Column("exercise_id", sa.String(40)),
        sa.Column("due", sa.Date()),
        sa.Column("assigned_by", sa.String(63), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cohort_id", "exercise_id", name="pk_training_assignments"),
        sa.ForeignKeyConstraint(["cohort_id"], ["training_cohorts.id"], ondelete="CASCADE",
                                name="fk_training_assignments_cohort_id_training_cohorts"),
        sa.ForeignKeyConstraint(["assigned_by"], ["people.username"],
                                name="fk_training_assignments_assigned_by_people"),
    )
    op.create_table(
        "training_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("exercise_id", sa.String(40), nullable=False),
        sa.Column("username", sa.String(63), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("correct", sa.Integer(), nullable=False),
        sa.Column("feedback", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_training_attempts"),
        sa.ForeignKeyConstraint(["username"], ["people.username"], name="fk_training_attempts_username_people"),
    )
    op.create_index("ix_training_attempts_exercise_id", "training_attempts", ["exercise_id"])
    op.create_index("ix_training_attempts_username", "training_attempts", ["username"])


def downgrade() -> None:
    op.drop_table("training_attempts")
    op.drop_table("training_assignments")
    op.drop_table("training_members")
    op.drop_table("training_cohorts")
