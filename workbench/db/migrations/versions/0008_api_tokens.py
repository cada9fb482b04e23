"""API tokens: one per person and purpose for the workbench service; only the token's SHA-256 is stored.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("username", sa.String(63), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(63), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires", sa.Date()),
        sa.Column("last_used_at", TZ),
        sa.Column("revoked_by", sa.String(63)),
        sa.Column("revoked_at", TZ),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
        sa.ForeignKeyConstraint(["username"], ["people.username"], name="fk_api_tokens_username_people"),
        sa.ForeignKeyConstraint(["created_by"], ["people.username"], name="fk_api_tokens_created_by_people"),
        sa.ForeignKeyConstraint(["revoked_by"], ["people.username"], name="fk_api_tokens_revoked_by_people"),
    )
    op.create_index("ix_api_tokens_username", "api_tokens", ["username"])


def downgrade() -> None:
    op.drop_table("api_tokens")
