"""The person index: the role of the people who build it (``linker``), and one row per update of a dataset's
place in the index, which is also the dataset's index coverage and quality record (the latest row).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
OLD_ROLES = "role IN ('analyst', 'output_checker', 'data_owner', 'trainer', 'admin')"
NEW_ROLES = "role IN ('analyst', 'output_checker', 'data_owner', 'trainer', 'admin', 'linker')"


def _roles_check(allowed: str) -> None:
    """Replace the check on person_roles.role. SQLite cannot alter a check: the table is made again with the new
    one and its rows copied (nothing refers to it)."""
    name = op.f("ck_person_roles_role")
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        # by whatever name the check was made (the foundation's went through the naming convention twice)
        for check in sa.inspect(bind).get_check_constraints("person_roles"):
            if check["name"]:  # a check has a name on PostgreSQL; one without could not be dropped by it
                op.drop_constraint(op.f(check["name"]), "person_roles", type_="check")
        op.create_check_constraint(name, "person_roles", allowed)
        return
    op.rename_table("person_roles", "_person_roles_old")
    op.create_table(
        "person_roles",
        sa.Column("username", sa.String(63), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("username", "role", name="pk_person_roles"),
        sa.CheckConstraint(allowed, name=name),
        sa.ForeignKeyConstraint(["username"], ["people.username"], name="fk_person_roles_username_people",
                                ondelete="CASCADE"),
    )
    op.execute("INSERT INTO person_roles (username, role) SELECT username, role FROM _person_roles_old")
    op.drop_table("_person_roles_old")


def upgrade() -> None:
    _roles_check(NEW_ROLES)
    op.create_table(
        "person_index_updates",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("dataset_id", sa.String(64), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("relinked", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("quality", sa.JSON(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(63), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_person_index_updates"),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], name="fk_person_index_updates_dataset_id_datasets",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["updated_by"], ["people.username"],
                                name="fk_person_index_updates_updated_by_people"),
    )
    op.create_index("ix_person_index_updates_dataset_id", "person_index_updates", ["dataset_id"])


def downgrade() -> None:
    op.drop_index("ix_person_index_updates_dataset_id", "person_index_updates")
    op.drop_table("person_index_updates")
    op.execute("DELETE FROM person_roles WHERE role = 'linker'")
    _roles_check(OLD_ROLES)
