"""Output requests: outputs grouped for release, independent reviews, release packages.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "output_requests",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_by", sa.String(63), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True)),
        sa.Column("concluded_by", sa.String(63)),
        sa.Column("concluded_at", sa.DateTime(timezone=True)),
        sa.Column("conclusion", sa.Text()),
        sa.Column("released_by", sa.String(63)),
        sa.Column("released_at", sa.DateTime(timezone=True)),
        sa.Column("package", sa.String(1000)),
        sa.Column("manifest_sha256", sa.String(64)),
        sa.PrimaryKeyConstraint("id", name="pk_output_requests"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name="fk_output_requests_project_id_projects"),
        sa.ForeignKeyConstraint(["created_by"], ["people.username"], name="fk_output_requests_created_by_people"),
        sa.ForeignKeyConstraint(["concluded_by"], ["people.username"],
                                name="fk_output_requests_concluded_by_people"),
        sa.ForeignKeyConstraint(["released_by"], ["people.username"], name="fk_output_requests_released_by_people"),
        sa.CheckConstraint("status IN ('draft', 'submitted', 'partially_reviewed', 'reviewed', 'approved', "
                           "'returned', 'rejected', 'released', 'withdrawn')", name="ck_output_requests_status"),
    )
    op.create_index("ix_output_requests_project_id", "output_requests", ["project_id"])
    op.create_table(
        "output_request_items",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("output_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("added_by", sa.String(63), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("request_id", "output_id", name="pk_output_request_items"),
        sa.ForeignKeyConstraint(["request_id"], ["output_requests.id"], ondelete="CASCADE",
                                name="fk_output_request_items_request_id_output_requests"),
        sa.ForeignKeyConstraint(["output_id"], ["outputs.id"], name="fk_output_request_items_output_id_outputs"),
        sa.ForeignKeyConstraint(["added_by"], ["people.username"], name="fk_output_request_items_added_by_people"),
    )
    op.create_table(
        "output_reviews",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("output_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(63), nullable=False),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("comment", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_output_reviews"),
        sa.ForeignKeyConstraint(["request_id"], ["output_requests.id"],
                                name="fk_output_reviews_request_id_output_requests"),
        sa.ForeignKeyConstraint(["output_id"], ["outputs.id"], name="fk_output_reviews_output_id_outputs"),
        sa.ForeignKeyConstraint(["reviewer"], ["people.username"], name="fk_output_reviews_reviewer_people"),
        sa.UniqueConstraint("request_id", "output_id", "round", "reviewer", name="uq_output_reviews_request_id"),
        sa.CheckConstraint("decision IN ('approve', 'changes', 'reject')", name="ck_output_reviews_decision"),
    )
    op.create_index("ix_output_reviews_request_id", "output_reviews", ["request_id"])


def downgrade() -> None:
    op.drop_table("output_reviews")
    op.drop_table("output_request_items")
    op.drop_table("output_requests")
