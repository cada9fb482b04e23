"""Governed access: accreditation and training, identifier-permitting gateways, delegates, access requests,
grants, loads and the project data space.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
IDENTIFIABLE_GATEWAYS = ("dea-2017-public-service-delivery", "uk-gdpr-public-task", "nhs-act-2006-s251",
                         "education-act-1996-s537a", "crime-and-disorder-act-1998-s115")


def _person(column: str, nullable: bool = False) -> sa.Column:
    return sa.Column(column, sa.String(63), nullable=nullable)


def upgrade() -> None:
    op.add_column("people", sa.Column("accreditation", sa.String(20), nullable=False, server_default="none"))
    op.add_column("people", sa.Column("accredited_until", sa.Date()))
    op.add_column("legal_gateways", sa.Column("allows_identifiers", sa.Integer(), nullable=False,
                                              server_default="0"))
    gateways = sa.table("legal_gateways", sa.column("code"), sa.column("allows_identifiers"))
    op.execute(gateways.update().where(gateways.c.code.in_(IDENTIFIABLE_GATEWAYS)).values(allows_identifiers=1))
    op.create_table(
        "training_records",
        _person("username"),
        sa.Column("course", sa.String(100)),
        sa.Column("completed", sa.Date()),
        sa.Column("expires", sa.Date(), nullable=False),
        _person("recorded_by"),
        sa.Column("recorded_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("username", "course", "completed", name="pk_training_records"),
        sa.ForeignKeyConstraint(["username"], ["people.username"], ondelete="CASCADE",
                                name="fk_training_records_username_people"),
    )
    op.create_table(
        "dataset_delegates",
        sa.Column("dataset_id", sa.String(64)),
        _person("username"),
        _person("added_by"),
        sa.Column("added_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("dataset_id", "username", name="pk_dataset_delegates"),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], ondelete="CASCADE",
                                name="fk_dataset_delegates_dataset_id_datasets"),
        sa.ForeignKeyConstraint(["username"], ["people.username"], name="fk_dataset_delegates_username_people"),
    )
    op.create_table(
        "access_requests",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("dataset_id", sa.String(64), nullable=False),
        _person("requested_by"),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("requested_at", TZ, nullable=False),
        _person("decided_by", nullable=True),
        sa.Column("decided_at", TZ),
        sa.Column("reason", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_access_requests"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name="fk_access_requests_project_id_projects"),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], name="fk_access_requests_dataset_id_datasets"),
        sa.ForeignKeyConstraint(["requested_by"], ["people.username"],
                                name="fk_access_requests_requested_by_people"),
        sa.ForeignKeyConstraint(["decided_by"], ["people.username"], name="fk_access_requests_decided_by_people"),
        sa.CheckConstraint("status IN ('pending', 'approved', 'refused', 'withdrawn')",
                           name="ck_access_requests_status"),
    )
    op.create_index("ix_access_requests_project_id", "access_requests", ["project_id"])
    op.create_index("ix_access_requests_dataset_id", "access_requests", ["dataset_id"])
    op.create_table(
        "grants",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("dataset_id", sa.String(64), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("identifiers", sa.JSON(), nullable=False),
        sa.Column("conditions", sa.Text(), nullable=False),
        sa.Column("expires", sa.Date(), nullable=False),
        _person("granted_by"),
        sa.Column("granted_at", TZ, nullable=False),
        _person("revoked_by", nullable=True),
        sa.Column("revoked_at", TZ),
        sa.PrimaryKeyConstraint("id", name="pk_grants"),
        sa.UniqueConstraint("request_id", name="uq_grants_request_id"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name="fk_grants_project_id_projects"),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], name="fk_grants_dataset_id_datasets"),
        sa.ForeignKeyConstraint(["request_id"], ["access_requests.id"], name="fk_grants_request_id_access_requests"),
        sa.ForeignKeyConstraint(["granted_by"], ["people.username"], name="fk_grants_granted_by_people"),
        sa.ForeignKeyConstraint(["revoked_by"], ["people.username"], name="fk_grants_revoked_by_people"),
    )
    op.create_index("ix_grants_project_id", "grants", ["project_id"])
    op.create_index("ix_grants_dataset_id", "grants", ["dataset_id"])
    op.create_table(
        "data_loads",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("dataset_id", sa.String(64), nullable=False),
        _person("username"),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_data_loads"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name="fk_data_loads_project_id_projects"),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], name="fk_data_loads_dataset_id_datasets"),
        sa.ForeignKeyConstraint(["username"], ["people.username"], name="fk_data_loads_username_people"),
    )
    op.create_index("ix_data_loads_dataset_id", "data_loads", ["dataset_id"])
    op.create_table(
        "project_datasets",
        sa.Column("project_id", sa.String(64)),
        sa.Column("name", sa.String(64)),
        sa.Column("version", sa.Integer()),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("derived_from", sa.JSON(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        _person("created_by"),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "name", "version", name="pk_project_datasets"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name="fk_project_datasets_project_id_projects"),
        sa.ForeignKeyConstraint(["created_by"], ["people.username"], name="fk_project_datasets_created_by_people"),
    )


def downgrade() -> None:
    for table in ("project_datasets", "data_loads", "grants", "access_requests", "dataset_delegates",
                  "training_records"):
        op.drop_table(table)
    with op.batch_alter_table("legal_gateways") as batch:
        batch.drop_column("allows_identifiers")
    with op.batch_alter_table("people") as batch:
        batch.drop_column("accredited_until")
        batch.drop_column("accreditation")
