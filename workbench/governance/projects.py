"""Safe projects: approved purposes under a legal gateway, with a lead, members, dates and a status.

A project is the unit that holds access grants, saved data, privacy budgets and outputs. Admins create and
change projects; anyone registered reads them; members work in them only while they are active and within
their dates (a closed, suspended or ended project can only be read). This module keeps projects as records;
what members do in a project (``workbench.project.Project``) is the kernel API's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import delete, insert, select, union, update

from workbench import audit
from workbench.db.schema import (
    datasets,
    grants,
    legal_gateways,
    output_requests,
    output_reviews,
    people,
    project_members,
    projects,
)
from workbench.errors import Conflict, InvalidInput, NotFound
from workbench.governance.conditions import project_row
from workbench.ids import check_project_id
from workbench.validation import check_date, check_username

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from workbench.context import Context

PROJECT_ROLES = ("lead", "analyst", "reviewer")
STATUSES = ("proposed", "active", "suspended", "closed")


@dataclass(frozen=True)
class ProjectRecord:
    """A project as the service keeps it: its purpose, legal gateway, lead, dates, status and members."""

    id: str
    title: str
    purpose: str
    mission: int
    legal_gateway: str
    lead: str
    status: str
    start: dt.date
    end: dt.date
    intended_outputs: list[str]
    intended_datasets: list[str]
    members: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class Projects:
    """Projects as records: created and changed by admins, read by anyone registered."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def create(self, id: str, title: str, purpose: str, *, mission: int, legal_gateway: str, lead: str,
               start: Any, end: Any, members: dict[str, str] | None = None, status: str = "proposed",
               intended_outputs: list[str] | None = None,
               intended_datasets: list[str] | None = None) -> ProjectRecord:
        """Create a project; every field is checked before anything is written."""
        check_project_id(id)
        for name, value in (("title", title), ("purpose", purpose)):
            if not isinstance(value, str) or not value.strip():
                raise InvalidInput(f"{name}: give the project's {name}.", field=name)
        if isinstance(mission, bool) or mission not in (1, 2, 3, 4, 5):
            raise InvalidInput(f"mission: {mission!r} is not a mission number 1–5.", field="mission")
        if status not in STATUSES:
            raise InvalidInput(f"status: {status!r} is not one of {', '.join(STATUSES)}.", field="status")
        start_date, end_date = check_date(start, "start"), check_date(end, "end")
        if end_date < start_date:
            raise InvalidInput(f"end: the project ends ({end_date}) before it starts ({start_date}).",
                               field="end")
        bad = {u: r for u, r in (members or {}).items() if r not in PROJECT_ROLES}
        if bad:
            raise InvalidInput(f"members: unknown project role(s) {bad}; use {', '.join(PROJECT_ROLES)}.",
                               field="members")
        roster = {lead: "lead", **{u: r for u, r in (members or {}).items() if u != lead}}
        with self._ctx.write() as conn:
            self._ctx.check("projects.manage", f"project {id}")
            if conn.execute(select(projects.c.id).where(projects.c.id == id)).first():
                raise Conflict(f"A project {id!r} already exists.")
            if not conn.execute(select(legal_gateways.c.code).where(legal_gateways.c.code == legal_gateway)
                                ).first():
                known = ", ".join(conn.execute(select(legal_gateways.c.code)).scalars())
                raise InvalidInput(f"legal_gateway: {legal_gateway!r} is not a known gateway; use one of "
                                   f"{known}.", field="legal_gateway")
            registered = set(conn.execute(select(people.c.username)
                                          .where(people.c.username.in_(list(roster)))).scalars())
            missing = sorted(set(roster) - registered)
            if missing:
                raise InvalidInput(f"members: {', '.join(missing)} not registered in this workspace.",
                                   field="members")
            wanted = list(intended_datasets or [])
            found = set(conn.execute(select(datasets.c.id).where(datasets.c.id.in_(wanted))).scalars())
            if set(wanted) - found:
                raise InvalidInput(f"intended_datasets: not in the catalogue: "
                                   f"{', '.join(sorted(set(wanted) - found))}.", field="intended_datasets")
            conn.execute(insert(projects).values(
                id=id, title=title.strip(), purpose=purpose.strip(), mission=mission,
                legal_gateway=legal_gateway, lead=lead, status=status, start_date=start_date,
                end_date=end_date, intended_outputs=list(intended_outputs or []), intended_datasets=wanted,
                created_at=dt.datetime.now(dt.UTC)))
            conn.execute(insert(project_members), [{"project_id": id, "username": u, "role": r}
                                                   for u, r in roster.items()])
            audit.append(conn, self._ctx.actor.username, "projects.create", f"project {id}",
                         detail={"mission": mission, "lead": lead, "members": roster})
        return self.get(id)

    def get(self, id: str) -> ProjectRecord:
        self._ctx.require("projects.read", f"project {id}")
        with self._ctx.db.read() as conn:
            return ProjectRecord(**self._record(conn, id))

    def list(self) -> pd.DataFrame:
        """All projects, id first."""
        self._ctx.require("projects.read", "projects")
        with self._ctx.db.read() as conn:
            rows = conn.execute(select(projects).order_by(projects.c.id)).mappings().all()
        columns = ["id", "title", "mission", "status", "lead", "legal_gateway", "start_date", "end_date"]
        return pd.DataFrame([{c: r[c] for c in columns} for r in rows], columns=columns)

    def update(self, id: str, *, status: str | None = None, end: Any = None) -> None:
        """Change status (proposed, active, suspended, closed) or end date (admins)."""
        if status is None and end is None:
            raise InvalidInput("Give a new status or end date.", field="status")
        if status is not None and (not isinstance(status, str) or status not in STATUSES):
            raise InvalidInput(f"status: {str(status)[:80]!r} is not one of {', '.join(STATUSES)}.", field="status")
        end_date = check_date(end, "end") if end is not None else None
        with self._ctx.write(audit_refusals_as=("projects.manage", f"project {id}")) as conn:
            self._ctx.check("projects.manage", f"project {id}")
            record = self._record(conn, id)
            if end_date is not None and end_date < record["start"]:
                raise InvalidInput(f"end: {end_date} is before the project starts ({record['start']}).",
                                   field="end")
            changes = {k: v for k, v in (("status", status), ("end_date", end_date)) if v is not None}
            conn.execute(update(projects).where(projects.c.id == id).values(**changes))
            audit.append(conn, self._ctx.actor.username, "projects.update", f"project {id}",
                         detail={"before": {"status": record["status"], "end_date": record["end"].isoformat()},
                                 "after": {k: str(v) for k, v in changes.items()}})

    def set_member(self, id: str, username: str, role: str | None) -> None:
        """Add or change a member's project role, or remove them (``role=None``); admins only."""
        if role is not None and (not isinstance(role, str) or role not in PROJECT_ROLES):
            raise InvalidInput(f"role: {str(role)[:80]!r} is not one of {', '.join(PROJECT_ROLES)}.", field="role")
        with self._ctx.write(audit_refusals_as=("projects.manage", f"project {id}")) as conn:
            self._ctx.check("projects.manage", f"project {id}")
            check_username(username)
            record = self._record(conn, id)
            if conn.execute(select(people.c.username).where(people.c.username == username)).first() is None:
                raise NotFound(f"No person {username!r} is registered in this workspace.")
            current = record["members"].get(username)
            if current is None and role is not None:  # joining: not a project whose current access one decided
                self._ctx.check("projects.manage", f"project {id}", member=username,
                                decided_grants=_decided_grants(conn, id, username),
                                checked_requests=_checked_requests(conn, id, username))
            if username == record["lead"] and role != "lead":
                raise Conflict(f"{username} leads project {id}; make someone else lead first.")
            key = (project_members.c.project_id == id) & (project_members.c.username == username)
            if role is None:
                if current is None:
                    raise NotFound(f"{username} is not a member of project {id}.")
                conn.execute(delete(project_members).where(key))
            elif current is None:
                conn.execute(insert(project_members).values(project_id=id, username=username, role=role))
            else:
                conn.execute(update(project_members).where(key).values(role=role))
            if role == "lead" and record["lead"] != username:
                conn.execute(update(project_members).where(
                    (project_members.c.project_id == id) & (project_members.c.username == record["lead"]))
                    .values(role="analyst"))
                conn.execute(update(projects).where(projects.c.id == id).values(lead=username))
            audit.append(conn, self._ctx.actor.username, "projects.members", f"project {id}",
                         detail={"member": username, "before": current, "after": role})

    @staticmethod
    def _record(conn: Connection, id: str) -> dict[str, Any]:
        row = project_row(conn, id)
        members = {r.username: r.role for r in conn.execute(
            select(project_members).where(project_members.c.project_id == id))}
        return {"id": row["id"], "title": row["title"], "purpose": row["purpose"], "mission": row["mission"],
                "legal_gateway": row["legal_gateway"], "lead": row["lead"], "status": row["status"],
                "start": row["start_date"], "end": row["end_date"], "intended_outputs": list(row["intended_outputs"]),
                "intended_datasets": list(row["intended_datasets"]), "members": members}


def _decided_grants(conn: Connection, id: str, username: str) -> list[int]:
    """The unrevoked, unexpired grants of project ``id`` that ``username`` approved."""
    return list(conn.execute(select(grants.c.id).where(
        (grants.c.project_id == id) & (grants.c.granted_by == username) & grants.c.revoked_at.is_(None)
        & (grants.c.expires >= dt.date.today())).order_by(grants.c.id)).scalars())

def _checked_requests(conn: Connection, id: str, username: str) -> list[int]:
    """The output requests of project ``id`` that ``username`` reviewed or concluded, whatever became of them."""
    r, v = output_requests, output_reviews
    reviewed = select(v.c.request_id.label("id")).join(r, r.c.id == v.c.request_id).where(
        (r.c.project_id == id) & (v.c.reviewer == username))
    concluded = select(r.c.id.label("id")).where((r.c.project_id == id) & (r.c.concluded_by == username))
    found = union(reviewed, concluded).subquery()
    return list(conn.execute(select(found.c.id).order_by(found.c.id)).scalars())
