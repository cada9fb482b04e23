"""The workspace's tables (SQLAlchemy Core). Alembic migrations create them; tests check both agree."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})


# Columns many tables share (a Column belongs to one table, so each call makes a new one)
def _serial_id() -> Column[int]:
    """A row number the database assigns."""
    return Column("id", Integer, primary_key=True, autoincrement=True)


def _project_id(**options: Any) -> Column[str]:
    """The project a row belongs to."""
    return Column("project_id", String(64), ForeignKey("projects.id"), nullable=False, **options)


def _numbered_in_project() -> tuple[Column[int], Column[str]]:
    """The key of a row numbered across projects and looked up by project (requests, grants, runs, outputs)."""
    return _serial_id(), _project_id(index=True)


def _who_when(action: str, **options: Any) -> tuple[Column[str], Column[datetime]]:
    """Who did ``action`` to a row and when: ``<action>_by`` (a person) and ``<action>_at``."""
    return (Column(f"{action}_by", String(63), ForeignKey("people.username"), **options),
            Column(f"{action}_at", DateTime(timezone=True), **options))


def _required(**columns: Any) -> list[Column[Any]]:
    """Columns that must hold a value, ``name=type``, in the order given."""
    return [Column(name, type_, nullable=False) for name, type_ in columns.items()]


departments = Table(
    "departments", metadata,
    Column("slug", String(100), primary_key=True),
    Column("abbreviation", String(20), unique=True),
    Column("name", String(200), nullable=False),
)

people = Table(
    "people", metadata,
    Column("username", String(63), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(254)),
    Column("department", String(100), ForeignKey("departments.slug")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("accreditation", String(20), nullable=False, server_default="none"),
    Column("accredited_until", Date),
)

training_records = Table(
    "training_records", metadata,
    Column("username", String(63), ForeignKey("people.username", ondelete="CASCADE"), primary_key=True),
    Column("course", String(100), primary_key=True),
    Column("completed", Date, primary_key=True),
    *_required(expires=Date, recorded_by=String(63), recorded_at=DateTime(timezone=True)),
)

person_roles = Table(
    "person_roles", metadata,
    Column("username", String(63), ForeignKey("people.username", ondelete="CASCADE"), primary_key=True),
    Column("role", String(20), primary_key=True),
    CheckConstraint("role IN ('analyst', 'output_checker', 'data_owner', 'trainer', 'admin', 'linker')", name="role"),
)

legal_gateways = Table(
    "legal_gateways", metadata,
    Column("code", String(64), primary_key=True),
    *_required(title=String(300), legislation=String(300), description=Text),
    Column("allows_identifiers", Integer, nullable=False, server_default="0"),
)

projects = Table(
    "projects", metadata,
    Column("id", String(64), primary_key=True),
    *_required(title=String(300), purpose=Text, mission=Integer),
    Column("legal_gateway", String(64), ForeignKey("legal_gateways.code"), nullable=False),
    Column("lead", String(63), ForeignKey("people.username"), nullable=False),
    *_required(status=String(20), start_date=Date, end_date=Date, intended_outputs=JSON, intended_datasets=JSON,
               created_at=DateTime(timezone=True)),
    CheckConstraint("mission BETWEEN 1 AND 5", name="mission"),
    CheckConstraint("status IN ('proposed', 'active', 'suspended', 'closed')", name="status"),
)

project_members = Table(
    "project_members", metadata,
    Column("project_id", String(64), ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("username", String(63), ForeignKey("people.username"), primary_key=True),
    Column("role", String(20), nullable=False),
)

datasets = Table(
    "datasets", metadata,
    Column("id", String(64), primary_key=True),
    Column("identifier", String(1000), nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("summary", Text),
    *_required(description=Text, keywords_text=Text, columns_text=Text),
    Column("department", String(100), ForeignKey("departments.slug"), nullable=False),
    Column("owner", String(63), ForeignKey("people.username")),
    *_required(security_classification=String(20), access_rights=String(20), update_frequency=String(40),
               modified=Date),
    Column("row_count", BigInteger),
    Column("has_data", Integer, nullable=False, default=0),
    *_required(record=JSON, registered_by=String(63), registered_at=DateTime(timezone=True),
               updated_at=DateTime(timezone=True)),
)

# one row per registration of a dataset's data: its number (1, 2, ...; the highest is the current version), when and
# by whom, its rows, and the SHA-256 of the stored file (copied data) or a snapshot marker of the source (data read
# in place). Grants cover the current version unless pinned to one (``grants.version``); loads record theirs.
dataset_versions = Table(
    "dataset_versions", metadata,
    Column("dataset_id", String(64), ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("row_count", BigInteger),
    Column("checksum", String(64)),
    Column("marker", String(500)),
    Column("mode", String(20), nullable=False, server_default="copy"),
    *_required(registered_by=String(63), registered_at=DateTime(timezone=True)),
    CheckConstraint("number >= 1", name="number"),
)

# datasets read in place (``catalogue.in_place``): where the data stays and what may be shown of it; a database
# URL's credentials are kept in the vault's protected credentials file, never here. ``datasets.has_data`` is 2 for
# them (1: copied into the vault)
dataset_sources = Table(
    "dataset_sources", metadata,
    Column("dataset_id", String(64), ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
    *_required(kind=String(10), location=Text),
    Column("table_name", String(200)),
    Column("query", Text),
    *_who_when("registered", nullable=False),
    CheckConstraint("kind IN ('csv', 'parquet', 'table', 'query')", name="kind"),
)

dataset_missions = Table(
    "dataset_missions", metadata,
    Column("dataset_id", String(64), ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
    Column("mission", Integer, primary_key=True),
    CheckConstraint("mission BETWEEN 1 AND 5", name="mission"),
)

dataset_themes = Table(
    "dataset_themes", metadata,
    Column("dataset_id", String(64), ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
    Column("theme", String(1000), primary_key=True),
    Column("label", String(300), nullable=False, index=True),
)

# Catalogue search: each entry's terms (words and their stems, ``workbench.catalogue.text``) with a weight saying in
# which fields they appear. Terms compare bytewise on both databases ("C" collation on PostgreSQL), so a prefix is
# the same range of terms everywhere.
SEARCH_TERM = String(64).with_variant(String(64, collation="C"), "postgresql")

dataset_terms = Table(
    "dataset_terms", metadata,
    Column("term", SEARCH_TERM, primary_key=True),
    Column("dataset_id", String(64), ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True, index=True),
    Column("weight", Integer, nullable=False),
    sqlite_with_rowid=False,  # stored in term order: a term's entries are read together, weights included
)  # on PostgreSQL the primary key INCLUDEs weight (migration 0012): a term's entries are read from the index alone

# The catalogue's abbreviations and synonyms: typing ``term`` ("A&E") also finds ``meaning`` ("accident and
# emergency") and the other way round; ``key`` is the term's letters and digits in lower case ("ae").
search_terms = Table(
    "search_terms", metadata,
    Column("key", SEARCH_TERM, primary_key=True),
    Column("meaning", String(300), primary_key=True),
    Column("term", String(100), nullable=False),
    *_who_when("added", nullable=False),
)

distributions = Table(
    "distributions", metadata,
    Column("identifier", String(1000), primary_key=True),
    *_required(title=Text, media_type=String(200), record=JSON, registered_by=String(63),
               registered_at=DateTime(timezone=True)),
)

contact_points = Table(
    "contact_points", metadata,
    Column("email", String(254), primary_key=True),
    *_required(name=String(300), record=JSON, registered_by=String(63), registered_at=DateTime(timezone=True)),
)

dataset_delegates = Table(
    "dataset_delegates", metadata,
    Column("dataset_id", String(64), ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
    Column("username", String(63), ForeignKey("people.username"), primary_key=True),
    Column("added_by", String(63), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
)

access_requests = Table(
    "access_requests", metadata,
    *_numbered_in_project(),
    Column("dataset_id", String(64), ForeignKey("datasets.id"), nullable=False, index=True),
    Column("requested_by", String(63), ForeignKey("people.username"), nullable=False),
    *_required(columns=JSON, justification=Text, status=String(20), requested_at=DateTime(timezone=True)),
    *_who_when("decided"),
    Column("reason", Text),
    CheckConstraint("status IN ('pending', 'approved', 'refused', 'withdrawn')", name="status"),
)

grants = Table(
    "grants", metadata,
    *_numbered_in_project(),
    Column("dataset_id", String(64), ForeignKey("datasets.id"), nullable=False, index=True),
    Column("request_id", Integer, ForeignKey("access_requests.id"), nullable=False, unique=True),
    Column("columns", JSON, nullable=False),
    Column("identifiers", JSON, nullable=False),
    Column("linkage", JSON),  # columns the linkage function may read for this project, never handed to it
    Column("conditions", Text, nullable=False),
    Column("expires", Date, nullable=False),
    *_who_when("granted", nullable=False),
    *_who_when("revoked"),
    Column("version", Integer),  # the dataset version the grant is pinned to; NULL: whichever is current
)

data_loads = Table(
    "data_loads", metadata,
    _serial_id(),
    _project_id(),
    Column("dataset_id", String(64), ForeignKey("datasets.id"), nullable=False, index=True),
    Column("username", String(63), ForeignKey("people.username"), nullable=False),
    *_required(columns=JSON, row_count=BigInteger, at=DateTime(timezone=True)),
    Column("version", Integer),  # the dataset version read (NULL: loaded before versions were kept)
)

project_datasets = Table(
    "project_datasets", metadata,
    Column("project_id", String(64), ForeignKey("projects.id"), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    *_required(columns=JSON, row_count=BigInteger, derived_from=JSON, sources=JSON),
    *_who_when("created", nullable=False),
    # who made the rows: 'analyst' (a frame sent from a kernel) or 'workbench' (linkage results, derivations the
    # service computed); only the workbench's frames carry a person key DP and person-level rules may trust
    Column("made_by", String(20), nullable=False, server_default="analyst"),
    Column("person_key", String(64)),
    Column("spec", JSON),  # how the workbench made it (source, version, columns, where...); None for an analyst's
    CheckConstraint("made_by IN ('analyst', 'workbench')", name="made_by"),
)

saved_reads = Table(  # who read which saved frame: with data_loads, the taint a member's next save inherits
    "saved_reads", metadata,
    _serial_id(),
    _project_id(index=True),
    *_required(name=String(64), version=Integer),
    Column("username", String(63), ForeignKey("people.username"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

linkage_runs = Table(
    "linkage_runs", metadata,
    *_numbered_in_project(),
    Column("left_dataset", String(64), ForeignKey("datasets.id"), nullable=False),
    Column("right_dataset", String(64), ForeignKey("datasets.id")),
    *_required(engine=String(20), spec=JSON, params=JSON, threshold=Float, quality=JSON, counts=JSON, columns=JSON),
    *_who_when("created", nullable=False),
)

# one row per update of a dataset's place in the person index (workbench.person_index); the latest row of a dataset
# is its index coverage and quality record. Counts, quality and warnings only: no identifying value, no index id.
person_index_updates = Table(
    "person_index_updates", metadata,
    _serial_id(),
    Column("dataset_id", String(64), ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False, index=True),
    *_required(version=String(40), fields=JSON, relinked=Integer, counts=JSON, quality=JSON, warnings=JSON),
    *_who_when("updated", nullable=False),
)

# one row per clerical review decision on an uncertain pair of the person index (workbench.person_index.decisions):
# the record (its row in the dataset file and its fingerprint then), the candidate (an index id, or another row
# and its fingerprint), "match" or "non-match", and the update that applied it (null while pending)
person_index_decisions = Table(
    "person_index_decisions", metadata,
    _serial_id(),
    Column("dataset_id", String(64), ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False, index=True),
    *_required(kind=String(10), record_row=Integer, candidate=String(40), fingerprint=String(16)),
    Column("candidate_fingerprint", String(16)),
    *_required(decision=String(10)),
    Column("note", Text),
    *_who_when("decided", nullable=False),
    Column("applied_in", Integer, ForeignKey("person_index_updates.id", ondelete="CASCADE")),
    Column("outcome", String(10)),
    CheckConstraint("kind IN ('person', 'record')", name="kind"),
    CheckConstraint("decision IN ('match', 'non-match')", name="decision"),
    CheckConstraint("outcome IN ('merged', 'split', 'unchanged', 'void')", name="outcome"),
)

outputs = Table(
    "outputs", metadata,
    *_numbered_in_project(),
    *_required(name=String(200), kind=String(20), method=String(40), status=String(10)),
    Column("exception", Text),
    *_required(derived_from=JSON, sources=JSON, checksum=String(64)),
    *_who_when("created", nullable=False),
    # 'computed': the workbench read the data and made the numbers from a spec; 'analyst-supplied': made from a
    # frame a kernel sent. ``origin`` says from what: source, version, file SHA-256 and spec, or the lineage.
    Column("provenance", String(20), nullable=False, server_default="analyst-supplied"),
    Column("origin", JSON),
    CheckConstraint("status IN ('pass', 'fail', 'review')", name="status"),
    CheckConstraint("provenance IN ('computed', 'analyst-supplied')", name="provenance"),
)

output_requests = Table(
    "output_requests", metadata,
    *_numbered_in_project(),
    *_required(title=String(300), context=JSON, status=String(20)),
    *_who_when("created", nullable=False),
    Column("submitted_at", DateTime(timezone=True)),
    *_who_when("concluded"),
    Column("conclusion", Text),
    *_who_when("released"),
    Column("package", String(1000)),
    Column("manifest_sha256", String(64)),
    CheckConstraint("status IN ('draft', 'submitted', 'partially_reviewed', 'reviewed', 'approved', 'returned', "
                    "'rejected', 'released', 'withdrawn')", name="status"),
)

output_request_items = Table(
    "output_request_items", metadata,
    Column("request_id", Integer, ForeignKey("output_requests.id", ondelete="CASCADE"), primary_key=True),
    Column("output_id", Integer, ForeignKey("outputs.id"), primary_key=True),
    Column("round", Integer, nullable=False),
    Column("checksum", String(64), nullable=False),
    *_who_when("added", nullable=False),
)

output_reviews = Table(
    "output_reviews", metadata,
    _serial_id(),
    Column("request_id", Integer, ForeignKey("output_requests.id"), nullable=False, index=True),
    Column("output_id", Integer, ForeignKey("outputs.id"), nullable=False),
    Column("round", Integer, nullable=False),
    Column("reviewer", String(63), ForeignKey("people.username"), nullable=False),
    Column("decision", String(20), nullable=False),
    Column("comment", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("request_id", "output_id", "round", "reviewer", name="uq_output_reviews_request_id"),
    CheckConstraint("decision IN ('approve', 'changes', 'reject')", name="decision"),
)

dp_budgets = Table(
    "dp_budgets", metadata,
    _serial_id(),
    Column("dataset_id", String(64), ForeignKey("datasets.id"), nullable=False, index=True),
    Column("project_id", String(64), ForeignKey("projects.id")),  # NULL: the dataset across all projects
    Column("epsilon", Float, nullable=False),
    Column("delta", Float, nullable=False),
    *_who_when("set", nullable=False),
    CheckConstraint("epsilon >= 0 AND delta >= 0 AND delta < 1", name="positive"),
)

dp_spends = Table(
    "dp_spends", metadata,
    _serial_id(),
    Column("query_id", String(32), nullable=False, index=True),
    _project_id(index=True),
    Column("dataset_id", String(64), ForeignKey("datasets.id"), nullable=False, index=True),
    Column("username", String(63), ForeignKey("people.username"), nullable=False),
    *_required(method=String(40), query=JSON, epsilon=Float, delta=Float),
    Column("output_id", Integer, ForeignKey("outputs.id")),
    Column("at", DateTime(timezone=True), nullable=False),
    CheckConstraint("epsilon > 0 AND delta >= 0", name="positive"),
)

twin_budgets = Table(  # what a dataset's synthetic twins may spend, set by its owner (absent: the defaults)
    "twin_budgets", metadata,
    Column("dataset_id", String(64), ForeignKey("datasets.id"), primary_key=True),
    Column("epsilon", Float, nullable=False),  # in total, over every twin ever made
    Column("per_twin", Float, nullable=False),  # what each twin made spends
    *_who_when("set", nullable=False),
    CheckConstraint("epsilon >= 0 AND per_twin > 0", name="positive"),
)

twin_spends = Table(  # one row per twin made: its ε, the data version it was made from, and how
    "twin_spends", metadata,
    _serial_id(),
    Column("dataset_id", String(64), ForeignKey("datasets.id"), nullable=False, index=True),
    Column("version", String(200), nullable=False),  # the data and schema the twin was made from
    Column("username", String(63), ForeignKey("people.username"), nullable=False),
    *_required(epsilon=Float, columns=JSON),
    Column("at", DateTime(timezone=True), nullable=False),
    CheckConstraint("epsilon >= 0", name="positive"),
)

training_cohorts = Table(
    "training_cohorts", metadata,
    Column("id", String(64), primary_key=True),
    Column("title", Text, nullable=False),
    *_who_when("created", nullable=False),
)

training_members = Table(
    "training_members", metadata,
    Column("cohort_id", String(64), ForeignKey("training_cohorts.id", ondelete="CASCADE"), primary_key=True),
    Column("username", String(63), ForeignKey("people.username"), primary_key=True),
)

training_assignments = Table(
    "training_assignments", metadata,
    Column("cohort_id", String(64), ForeignKey("training_cohorts.id", ondelete="CASCADE"), primary_key=True),
    Column("exercise_id", String(40), primary_key=True),
    Column("due", Date),
    *_who_when("assigned", nullable=False),
)

training_attempts = Table(
    "training_attempts", metadata,
    _serial_id(),
    Column("exercise_id", String(40), nullable=False, index=True),
    Column("username", String(63), ForeignKey("people.username"), nullable=False, index=True),
    *_required(answer=JSON, correct=Integer, feedback=Text, at=DateTime(timezone=True)),
)

api_tokens = Table(
    "api_tokens", metadata,
    _serial_id(),
    Column("username", String(63), ForeignKey("people.username"), nullable=False, index=True),
    Column("label", String(200), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256 hex; the token itself is never kept
    *_who_when("created", nullable=False),
    Column("expires", Date),  # valid through this day (UTC); NULL: until revoked
    Column("last_used_at", DateTime(timezone=True)),
    *_who_when("revoked"),
)

settings = Table(
    "settings", metadata,
    Column("key", String(100), primary_key=True),
    *_required(value=JSON, updated_by=String(63), updated_at=DateTime(timezone=True)),
)

audit_events = Table(
    "audit_events", metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    *_required(at=DateTime(timezone=True), actor=String(63), action=String(100), resource=String(1000),
               outcome=String(20), detail=JSON, prev_hash=String(64), hash=String(64)),
    UniqueConstraint("prev_hash", name="uq_audit_events_prev_hash"),
    CheckConstraint("outcome IN ('ok', 'denied', 'refused')", name="outcome"),
)
