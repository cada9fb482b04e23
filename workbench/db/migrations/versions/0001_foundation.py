"""Foundation: departments, people, projects, catalogue with full-text index, settings, audit chain.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "departments",
        sa.Column("slug", sa.String(100), primary_key=True),
        sa.Column("abbreviation", sa.String(20)),
        sa.Column("name", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("slug", name="pk_departments"),
        sa.UniqueConstraint("abbreviation", name="uq_departments_abbreviation"),
    )
    op.create_table(
        "people",
        sa.Column("username", sa.String(63)),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254)),
        sa.Column("department", sa.String(100)),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("username", name="pk_people"),
        sa.ForeignKeyConstraint(["department"], ["departments.slug"], name="fk_people_department_departments"),
    )
    op.create_table(
        "person_roles",
        sa.Column("username", sa.String(63)),
        sa.Column("role", sa.String(20)),
        sa.PrimaryKeyConstraint("username", "role", name="pk_person_roles"),
        sa.ForeignKeyConstraint(["username"], ["people.username"], ondelete="CASCADE",
                                name="fk_person_roles_username_people"),
        sa.CheckConstraint("role IN ('analyst', 'output_checker', 'data_owner', 'trainer', 'admin')",
                           name="ck_person_roles_role"),
    )
    op.create_table(
        "legal_gateways",
        sa.Column("code", sa.String(64)),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("legislation", sa.String(300), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_legal_gateways"),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.String(64)),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("mission", sa.Integer, nullable=False),
        sa.Column("legal_gateway", sa.String(64), nullable=False),
        sa.Column("lead", sa.String(63), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("intended_outputs", sa.JSON, nullable=False),
        sa.Column("intended_datasets", sa.JSON, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_projects"),
        sa.ForeignKeyConstraint(["legal_gateway"], ["legal_gateways.code"],
                                name="fk_projects_legal_gateway_legal_gateways"),
        sa.ForeignKeyConstraint(["lead"], ["people.username"], name="fk_projects_lead_people"),
        sa.CheckConstraint("mission BETWEEN 1 AND 5", name="ck_projects_mission"),
        sa.CheckConstraint("status IN ('proposed', 'active', 'suspended', 'closed')", name="ck_projects_status"),
    )
    op.create_table(
        "project_members",
        sa.Column("project_id", sa.String(64)),
        sa.Column("username", sa.String(63)),
        sa.Column("role", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "username", name="pk_project_members"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE",
                                name="fk_project_members_project_id_projects"),
        sa.ForeignKeyConstraint(["username"], ["people.username"], name="fk_project_members_username_people"),
    )
    op.create_table(
        "datasets",
        sa.Column("id", sa.String(64)),
        sa.Column("identifier", sa.String(1000), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("summary", sa.Text),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("keywords_text", sa.Text, nullable=False),
        sa.Column("columns_text", sa.Text, nullable=False),
        sa.Column("department", sa.String(100), nullable=False),
        sa.Column("owner", sa.String(63)),
        sa.Column("security_classification", sa.String(20), nullable=False),
        sa.Column("access_rights", sa.String(20), nullable=False),
        sa.Column("update_frequency", sa.String(40), nullable=False),
        sa.Column("modified", sa.Date, nullable=False),
        sa.Column("row_count", sa.BigInteger),
        sa.Column("has_data", sa.Integer, nullable=False),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("registered_by", sa.String(63), nullable=False),
        sa.Column("registered_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_datasets"),
        sa.UniqueConstraint("identifier", name="uq_datasets_identifier"),
        sa.ForeignKeyConstraint(["department"], ["departments.slug"], name="fk_datasets_department_departments"),
        sa.ForeignKeyConstraint(["owner"], ["people.username"], name="fk_datasets_owner_people"),
    )
    op.create_table(
        "dataset_missions",
        sa.Column("dataset_id", sa.String(64)),
        sa.Column("mission", sa.Integer),
        sa.PrimaryKeyConstraint("dataset_id", "mission", name="pk_dataset_missions"),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], ondelete="CASCADE",
                                name="fk_dataset_missions_dataset_id_datasets"),
        sa.CheckConstraint("mission BETWEEN 1 AND 5", name="ck_dataset_missions_mission"),
    )
    op.create_table(
        "dataset_themes",
        sa.Column("dataset_id", sa.String(64)),
        sa.Column("theme", sa.String(1000)),
        sa.Column("label", sa.String(300), nullable=False),
        sa.PrimaryKeyConstraint("dataset_id", "theme", name="pk_dataset_themes"),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], ondelete="CASCADE",
                                name="fk_dataset_themes_dataset_id_datasets"),
    )
    op.create_index("ix_dataset_themes_label", "dataset_themes", ["label"])
    op.create_table(
        "distributions",
        sa.Column("identifier", sa.String(1000)),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("media_type", sa.String(200), nullable=False),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("registered_by", sa.String(63), nullable=False),
        sa.Column("registered_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("identifier", name="pk_distributions"),
    )
    op.create_table(
        "contact_points",
        sa.Column("email", sa.String(254)),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("registered_by", sa.String(63), nullable=False),
        sa.Column("registered_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("email", name="pk_contact_points"),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(100)),
        sa.Column("value", sa.JSON, nullable=False),
        sa.Column("updated_by", sa.String(63), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_settings"),
    )
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), autoincrement=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(63), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("resource", sa.String(1000), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_events"),
        sa.UniqueConstraint("prev_hash", name="uq_audit_events_prev_hash"),
        sa.CheckConstraint("outcome IN ('ok', 'denied', 'refused')", name="ck_audit_events_outcome"),
    )
    _create_search_index()
    _seed_legal_gateways()


def _create_search_index() -> None:
    """Full-text search in the database itself: FTS5 on SQLite, a weighted tsvector on PostgreSQL."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE datasets_fts USING fts5("
            "title, summary, description, keywords, columns, "
            "content='datasets', content_rowid='rowid', tokenize='porter unicode61')")
        fields = "title, summary, description, keywords, columns"
        values = "{0}.title, {0}.summary, {0}.description, {0}.keywords_text, {0}.columns_text"
        op.execute(
            "CREATE TRIGGER datasets_fts_insert AFTER INSERT ON datasets BEGIN "
            f"INSERT INTO datasets_fts(rowid, {fields}) VALUES (new.rowid, {values.format('new')}); END")
        op.execute(
            "CREATE TRIGGER datasets_fts_delete AFTER DELETE ON datasets BEGIN "
            f"INSERT INTO datasets_fts(datasets_fts, rowid, {fields}) "
            f"VALUES ('delete', old.rowid, {values.format('old')}); END")
        op.execute(
            "CREATE TRIGGER datasets_fts_update AFTER UPDATE ON datasets BEGIN "
            f"INSERT INTO datasets_fts(datasets_fts, rowid, {fields}) "
            f"VALUES ('delete', old.rowid, {values.format('old')}); "
            f"INSERT INTO datasets_fts(rowid, {fields}) VALUES (new.rowid, {values.format('new')}); END")
    else:
        op.execute(
            "ALTER TABLE datasets ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
            "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
            "setweight(to_tsvector('english', coalesce(keywords_text, '')), 'B') || "
            "setweight(to_tsvector('english', coalesce(summary, '') || ' ' || columns_text), 'C') || "
            "setweight(to_tsvector('english', description), 'D')) STORED")
        op.execute("CREATE INDEX ix_datasets_search_vector ON datasets USING gin (search_vector)")


def _seed_legal_gateways() -> None:
    table = sa.table("legal_gateways", sa.column("code"), sa.column("title"), sa.column("legislation"),
                     sa.column("description"))
    op.bulk_insert(table, [
        {"code": "dea-2017-research", "title": "Research power",
         "legislation": "Digital Economy Act 2017, Part 5, Chapter 5",
         "description": "Disclosure of de-identified data by public authorities to accredited researchers for "
                        "accredited research in the public interest."},
        {"code": "dea-2017-public-service-delivery", "title": "Public service delivery power",
         "legislation": "Digital Economy Act 2017, Part 5, Chapter 1",
         "description": "Data sharing between specified public authorities to improve public services for "
                        "individuals and households under registered objectives."},
        {"code": "sraa-2007-s39", "title": "Disclosure of personal information by the statistics board",
         "legislation": "Statistics and Registration Service Act 2007, s.39",
         "description": "Allows ONS to disclose personal information to approved researchers for statistical "
                        "research."},
        {"code": "uk-gdpr-public-task", "title": "Public task",
         "legislation": "Data Protection Act 2018; UK GDPR Article 6(1)(e)",
         "description": "Processing necessary for a task carried out in the public interest or in the exercise "
                        "of official authority."},
        {"code": "nhs-act-2006-s251", "title": "Section 251 support",
         "legislation": "National Health Service Act 2006, s.251",
         "description": "Sets aside the common-law duty of confidentiality for approved medical purposes."},
        {"code": "education-act-1996-s537a", "title": "Pupil information",
         "legislation": "Education Act 1996, s.537A",
         "description": "Provision of individual pupil information by the Department for Education."},
        {"code": "crime-and-disorder-act-1998-s115", "title": "Crime and disorder information sharing",
         "legislation": "Crime and Disorder Act 1998, s.115",
         "description": "Disclosure to relevant authorities for the purposes of the Act (crime reduction)."},
        {"code": "open-government-licence", "title": "Open data",
         "legislation": "Open Government Licence v3.0",
         "description": "Published open data; no gateway is needed to use it."},
    ])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("datasets_fts_insert", "datasets_fts_delete", "datasets_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS datasets_fts")
    for table in ("audit_events", "settings", "contact_points", "distributions", "dataset_themes",
                  "dataset_missions", "datasets", "project_members", "projects", "legal_gateways",
                  "person_roles", "people", "departments"):
        op.drop_table(table)
