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


def _authorship() -> tuple[Column[str], Column[datetime]]:
    """Who made a row, and when."""
    return (Column("created_by", String(63), ForeignKey("people.username"), nullable=False),
            Column("created_at", DateTime(timezone=True), nullable=False))


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
    Column("expires", Date, nullable=False),
    Column("recorded_by", String(63), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

person_roles = Table(
    "person_roles", metadata,
    Column("username", String(63), ForeignKey("people.username", ondelete="CASCADE"), primary_key=True),
    Column("role", String(20), primary_key=True),
    CheckConstraint("role IN ('analyst', 'output_checker', 'data_owner', 'trainer', 'admin')", name="role"),
)

legal_gateways = Table(
    "legal_gateways", metadata,
    Column("code", String(64), primary_key=True),
    Column("title", String(300), nullable=False),
    Column("legislation", String(300), nullable=False),
    Column("description", Text, nullable=False),
    Column("allows_identifiers", Integer, nullable=False, server_default="0"),
)

projects = Table(
    "projects", metadata,
    Column("id", String(64), primary_key=True),
    Column("title", String(300), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("mission", Integer, nullable=False),
    Column("legal_gateway", String(64), ForeignKey("legal_gateways.code"), nullable=False),
    Column("lead", String(63), ForeignKey("people.username"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("intended_outputs", JSON, nullable=False),
    Column("intended_datasets", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
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
    Column("description", Text, nullable=False),
    Column("keywords_text", Text, nullable=False),
    Column("columns_text", Text, nullable=False),
    Column("department", String(100), ForeignKey("departments.slug"), nullable=False),
    Column("owner", String(63), ForeignKey("people.username")),
    Column("security_classification", String(20), nullable=False),
    Column("access_rights", String(20), nullable=False),
    Column("update_frequency", String(40), nullable=False),
    Column("modified", Date, nullable=False),
    Column("row_count", BigInteger),
    Column("has_data", Integer, nullable=False, default=0),
    Column("record", JSON, nullable=False),
    Column("registered_by", String(63), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
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

distributions = Table(
    "distributions", metadata,
    Column("identifier", String(1000), primary_key=True),
    Column("title", Text, nullable=False),
    Column("media_type", String(200), nullable=False),
    Column("record", JSON, nullable=False),
    Column("registered_by", String(63), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
)

contact_points = Table(
    "contact_points", metadata,
    Column("email", String(254), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("record", JSON, nullable=False),
    Column("registered_by", String(63), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
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
    _serial_id(),
    _project_id(index=True),
    Column("dataset_id", String(64), ForeignKey("datasets.id"), nullable=False, index=True),
    Column("requested_by", String(63), ForeignKey("people.username"), nullable=False),
    Column("columns", JSON, nullable=False),
    Column("justification", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", String(63), ForeignKey("people.username")),
    Column("decided_at", DateTime(timezone=True)),
    Column("reason", Text),
    CheckConstraint("status IN ('pending', 'approved', 'refused', 'withdrawn')", name="status"),
)

grants = Table(
    "grants", metadata,
    _serial_id(),
    _project_id(index=True),
    Column("dataset_id", String(64), ForeignKey("datasets.id"), nullable=False, index=True),
    Column("request_id", Integer, ForeignKey("access_requests.id"), nullable=False, unique=True),
    Column("columns", JSON, nullable=False),
    Column("identifiers", JSON, nullable=False),
    Column("linkage", JSON),  # columns the linkage function may read for this project, never handed to it
    Column("conditions", Text, nullable=False),
    Column("expires", Date, nullable=False),
    Column("granted_by", String(63), ForeignKey("people.username"), nullable=False),
    Column("granted_at", DateTime(timezone=True), nullable=False),
    Column("revoked_by", String(63), ForeignKey("people.username")),
    Column("revoked_at", DateTime(timezone=True)),
)

data_loads = Table(
    "data_loads", metadata,
    _serial_id(),
    _project_id(),
    Column("dataset_id", String(64), ForeignKey("datasets.id"), nullable=False, index=True),
    Column("username", String(63), ForeignKey("people.username"), nullable=False),
    Column("columns", JSON, nullable=False),
    Column("row_count", BigInteger, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

project_datasets = Table(
    "project_datasets", metadata,
    Column("project_id", String(64), ForeignKey("projects.id"), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("columns", JSON, nullable=False),
    Column("row_count", BigInteger, nullable=False),
    Column("derived_from", JSON, nullable=False),
    Column("sources", JSON, nullable=False),
    *_authorship(),
)

linkage_runs = Table(
    "linkage_runs", metadata,
    _serial_id(),
    _project_id(index=True),
    Column("left_dataset", String(64), ForeignKey("datasets.id"), nullable=False),
    Column("right_dataset", String(64), ForeignKey("datasets.id")),
    Column("engine", String(20), nullable=False),
    Column("spec", JSON, nullable=False),
    Column("params", JSON, nullable=False),
    Column("threshold", Float, nullable=False),
    Column("quality", JSON, nullable=False),
    Column("counts", JSON, nullable=False),
    Column("columns", JSON, nullable=False),
    *_authorship(),
)

outputs = Table(
    "outputs", metadata,
    _serial_id(),
    _project_id(index=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("method", String(40), nullable=False),
    Column("status", String(10), nullable=False),
    Column("exception", Text),
    Column("derived_from", JSON, nullable=False),
    Column("sources", JSON, nullable=False),
    Column("checksum", String(64), nullable=False),
    *_authorship(),
    CheckConstraint("status IN ('pass', 'fail', 'review')", name="status"),
)

output_requests = Table(
    "output_requests", metadata,
    _serial_id(),
    _project_id(index=True),
    Column("title", String(300), nullable=False),
    Column("context", JSON, nullable=False),
    Column("status", String(20), nullable=False),
    *_authorship(),
    Column("submitted_at", DateTime(timezone=True)),
    Column("concluded_by", String(63), ForeignKey("people.username")),
    Column("concluded_at", DateTime(timezone=True)),
    Column("conclusion", Text),
    Column("released_by", String(63), ForeignKey("people.username")),
    Column("released_at", DateTime(timezone=True)),
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
    Column("added_by", String(63), ForeignKey("people.username"), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
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
    Column("set_by", String(63), ForeignKey("people.username"), nullable=False),
    Column("set_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("epsilon >= 0 AND delta >= 0 AND delta < 1", name="positive"),
)

dp_spends = Table(
    "dp_spends", metadata,
    _serial_id(),
    Column("query_id", String(32), nullable=False, index=True),
    _project_id(index=True),
    Column("dataset_id", String(64), ForeignKey("datasets.id"), nullable=False, index=True),
    Column("username", String(63), ForeignKey("people.username"), nullable=False),
    Column("method", String(40), nullable=False),
    Column("query", JSON, nullable=False),
    Column("epsilon", Float, nullable=False),
    Column("delta", Float, nullable=False),
    Column("output_id", Integer, ForeignKey("outputs.id")),
    Column("at", DateTime(timezone=True), nullable=False),
    CheckConstraint("epsilon > 0 AND delta >= 0", name="positive"),
)

training_cohorts = Table(
    "training_cohorts", metadata,
    Column("id", String(64), primary_key=True),
    Column("title", Text, nullable=False),
    *_authorship(),
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
    Column("assigned_by", String(63), ForeignKey("people.username"), nullable=False),
    Column("assigned_at", DateTime(timezone=True), nullable=False),
)

training_attempts = Table(
    "training_attempts", metadata,
    _serial_id(),
    Column("exercise_id", String(40), nullable=False, index=True),
    Column("username", String(63), ForeignKey("people.username"), nullable=False, index=True),
    Column("answer", JSON, nullable=False),
    Column("correct", Integer, nullable=False),
    Column("feedback", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

api_tokens = Table(
    "api_tokens", metadata,
    _serial_id(),
    Column("username", String(63), ForeignKey("people.username"), nullable=False, index=True),
    Column("label", String(200), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256 hex; the token itself is never kept
    *_authorship(),
    Column("expires", Date),  # valid through this day (UTC); NULL: until revoked
    Column("last_used_at", DateTime(timezone=True)),
    Column("revoked_by", String(63), ForeignKey("people.username")),
    Column("revoked_at", DateTime(timezone=True)),
)

settings = Table(
    "settings", metadata,
    Column("key", String(100), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_by", String(63), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

audit_events = Table(
    "audit_events", metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(63), nullable=False),
    Column("action", String(100), nullable=False),
    Column("resource", String(1000), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("detail", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("prev_hash", name="uq_audit_events_prev_hash"),
    CheckConstraint("outcome IN ('ok', 'denied', 'refused')", name="outcome"),
)
