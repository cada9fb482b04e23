"""Catalogue search the same on every database: each entry's weighted terms (words and Snowball stems, analysed by
the workbench) replace SQLite FTS5 and PostgreSQL's tsvector, whose tokenising, stemming and ranking differ; and
the catalogue's abbreviations and synonyms ("A&E" → "accident and emergency"), kept by data owners and admins.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
TERM = sa.String(64).with_variant(sa.String(64, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "dataset_terms",
        sa.Column("term", TERM, nullable=False),
        sa.Column("dataset_id", sa.String(64), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("term", "dataset_id", name="pk_dataset_terms"),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], name="fk_dataset_terms_dataset_id_datasets",
                                ondelete="CASCADE"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_dataset_terms_dataset_id", "dataset_terms", ["dataset_id"])
    op.create_table(
        "search_terms",
        sa.Column("key", TERM, nullable=False),
        sa.Column("meaning", sa.String(300), nullable=False),
        sa.Column("term", sa.String(100), nullable=False),
        sa.Column("added_by", sa.String(63), nullable=False),
        sa.Column("added_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("key", "meaning", name="pk_search_terms"),
        sa.ForeignKeyConstraint(["added_by"], ["people.username"], name="fk_search_terms_added_by_people"),
    )
    _drop_engine_indexes()
    _index_existing_entries(op.get_bind())


def _drop_engine_indexes() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("datasets_fts_insert", "datasets_fts_delete", "datasets_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS datasets_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_datasets_search_vector")
        op.execute("ALTER TABLE datasets DROP COLUMN IF EXISTS search_vector")


def _index_existing_entries(conn: sa.engine.Connection) -> None:
    """Every entry's terms, as the workbench stores them when an entry is written."""
    from workbench.catalogue.search import entry_fields  # the analysis itself, as the workbench runs it
    from workbench.catalogue.text import document_terms

    datasets = sa.table("datasets", sa.column("id"), sa.column("department"), sa.column("record", sa.JSON))
    departments = sa.table("departments", sa.column("slug"), sa.column("abbreviation"), sa.column("name"))
    terms = sa.table("dataset_terms", sa.column("term"), sa.column("dataset_id"), sa.column("weight"))
    names = {r.slug: (r.abbreviation, r.name) for r in conn.execute(sa.select(departments))}
    for row in conn.execute(sa.select(datasets)).all():
        weights = document_terms(entry_fields(row.record, names.get(row.department)))
        if weights:
            conn.execute(sa.insert(terms), [{"term": t, "dataset_id": row.id, "weight": w}
                                            for t, w in weights.items()])


def downgrade() -> None:
    op.drop_table("search_terms")
    op.drop_index("ix_dataset_terms_dataset_id", table_name="dataset_terms")
    op.drop_table("dataset_terms")
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
        op.execute(f"INSERT INTO datasets_fts(rowid, {fields}) SELECT rowid, {values.format('datasets')} FROM datasets")
    else:
        op.execute(
            "ALTER TABLE datasets ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
            "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
            "setweight(to_tsvector('english', coalesce(keywords_text, '')), 'B') || "
            "setweight(to_tsvector('english', coalesce(summary, '') || ' ' || columns_text), 'C') || "
            "setweight(to_tsvector('english', description), 'D')) STORED")
        op.execute("CREATE INDEX ix_datasets_search_vector ON datasets USING gin (search_vector)")
