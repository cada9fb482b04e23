"""What the policy must know before data moves: the project's state, the person's membership, accreditation
and training, and the workspace's access settings.

Services gather these facts from the database and hand them to ``policy.decide``; the policy alone judges
them, so every refusal names the condition that failed in one place.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from workbench.catalogue.model import PSEUDONYMISED_ROLES
from workbench.db.schema import (
    dataset_delegates,
    datasets,
    people,
    project_members,
    projects,
    settings,
    training_records,
)
from workbench.errors import InvalidInput, NotFound
from workbench.ids import check_dataset_id, check_project_id
from workbench.validation import CODE

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from workbench.context import Context

ACCESS_SETTING = "access"
ACCESS_DEFAULTS: dict[str, Any] = {
    # courses a person needs, current, before they may load or save governed data
    "required_training": ["safe-researcher"],
    # categories seen fewer times than this are left out of synthetic twins
    "twin_min_count": 10,
}


def check_access_settings(changes: dict[str, Any]) -> dict[str, Any]:
    """Validate changes to the access settings; refuse unknown keys and bad values."""
    unknown = sorted(set(changes) - set(ACCESS_DEFAULTS))
    if unknown:
        raise InvalidInput(f"{unknown[0]}: not an access setting; known: {', '.join(ACCESS_DEFAULTS)}.",
                           field=unknown[0])
    if "required_training" in changes:
        courses = changes["required_training"]
        if isinstance(courses, str) or not all(isinstance(c, str) and CODE.match(c) for c in courses):
            raise InvalidInput("required_training: give a list of course codes such as ['safe-researcher'].",
                               field="required_training")
        changes["required_training"] = list(courses)
    if "twin_min_count" in changes:
        value = changes["twin_min_count"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidInput(f"twin_min_count: {value!r} is not a whole number of at least 1.",
                               field="twin_min_count")
    return changes


def access_settings(conn: Connection) -> dict[str, Any]:
    stored = conn.execute(select(settings.c.value).where(settings.c.key == ACCESS_SETTING)).scalar()
    return {**ACCESS_DEFAULTS, **(stored or {})}


def project_row(conn: Connection, project_id: str) -> dict[str, Any]:
    check_project_id(project_id, "project")
    row = conn.execute(select(projects).where(projects.c.id == project_id)).mappings().first()
    if row is None:
        raise NotFound(f"No project {project_id!r}; check the project's id in your list of projects.",
                       notebook="(ws.projects())")
    return dict(row)


def project_facts(conn: Connection, project: dict[str, Any], username: str) -> dict[str, Any]:
    """Facts about ``username`` working in ``project`` (a row of ``projects``), for the policy."""
    today = date.today()
    role = conn.execute(select(project_members.c.role).where(
        (project_members.c.project_id == project["id"]) & (project_members.c.username == username))).scalar()
    person = conn.execute(select(people.c.accreditation, people.c.accredited_until)
                          .where(people.c.username == username)).first()
    current = set(conn.execute(select(training_records.c.course).where(
        (training_records.c.username == username) & (training_records.c.expires >= today))).scalars())
    required = access_settings(conn)["required_training"]
    return {
        "project": project["id"], "project_status": project["status"], "project_end": project["end_date"],
        "project_ended": project["end_date"] < today, "lead": project["lead"], "member_role": role,
        "accreditation": person.accreditation if person else None,
        "accredited_until": person.accredited_until if person else None, "today": today,
        "training_missing": [c for c in required if c not in current],
    }


def project_members_of(conn: Connection, project_id: str) -> dict[str, str]:
    """Every member of the project (the lead too) → their project role, as the transaction sees it now."""
    members = dict(conn.execute(select(project_members.c.username, project_members.c.role)
                                .where(project_members.c.project_id == project_id)).all())
    lead = conn.execute(select(projects.c.lead).where(projects.c.id == project_id)).scalar()
    if lead is not None:
        members.setdefault(lead, "lead")
    return members


def require_in_project(ctx: Context, action: str, resource: str, project_id: str) -> None:
    """Ask the policy whether the acting person may do ``action`` in the project, outside a transaction;
    an unknown or malformed project is refused and audited like a denial."""
    try:
        with ctx.db.read() as conn:
            facts = project_facts(conn, project_row(conn, project_id), ctx.actor.username)
    except (NotFound, InvalidInput) as error:
        raise ctx.audit_refused(action, resource, error) from None
    ctx.require(action, resource, **facts)


def dataset_row(conn: Connection, dataset_id: str) -> dict[str, Any]:
    """The catalogue row of a dataset, with its delegates; refuse unknown ids."""
    check_dataset_id(dataset_id, "dataset_id")
    row = conn.execute(select(datasets.c.id, datasets.c.owner, datasets.c.has_data, datasets.c.record)
                       .where(datasets.c.id == dataset_id)).mappings().first()
    if row is None:
        raise NotFound(f"No dataset {dataset_id!r} in the catalogue; search the catalogue to find its id.",
                       notebook="(ws.catalogue.search(...))")
    delegates = sorted(conn.execute(select(dataset_delegates.c.username)
                                    .where(dataset_delegates.c.dataset_id == dataset_id)).scalars())
    return {**dict(row), "delegates": delegates}


def schema_roles(record: dict[str, Any]) -> dict[str, str]:
    """Column name → disclosure role, in schema order."""
    return {c["name"]: c["role"] for c in record.get("columns", [])}


def pseudonymised_columns(roles: dict[str, str], columns: list[str]) -> list[str]:
    """Those of ``columns`` that leave the vault only as the project's pseudonyms (direct and record
    identifiers): one rule for every path that hands a project dataset values (loads, linkage)."""
    return [c for c in columns if roles.get(c) in PSEUDONYMISED_ROLES]


def identifier_columns(conn: Connection, dataset_id: str) -> list[str]:
    """The columns of a catalogue dataset that leave the vault only as pseudonyms."""
    roles = schema_roles(dataset_row(conn, dataset_id)["record"])
    return pseudonymised_columns(roles, list(roles))


def check_columns(columns: Any, known: dict[str, str], dataset_id: str) -> list[str] | None:
    """A list of distinct known column names (or None for all); refuse anything else naming the culprits."""
    if columns is None:
        return None
    if not isinstance(columns, list | tuple) or not all(isinstance(c, str) for c in columns):
        raise InvalidInput("columns: give a list of column names, e.g. ['age', 'region'].", field="columns")
    columns = list(dict.fromkeys(columns))
    if not columns:
        raise InvalidInput("columns: the list is empty; leave it out to mean every column.", field="columns")
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise InvalidInput(f"columns: {', '.join(unknown)} not in {dataset_id}; its columns are "
                           f"{', '.join(known)}.", field="columns")
    return columns
