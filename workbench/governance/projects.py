"""Safe projects: approved purposes under a legal gateway, with a lead and members.

A project is the unit that later holds access grants, privacy budgets and outputs; here it is created
(by an admin) and read (by anyone registered).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench import audit
from workbench.errors import Conflict, InvalidInput, NotFound
from workbench.ids import check_project_id

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import Connection

    from workbench.context import Context

PROJECT_ROLES = ("lead", "analyst", "reviewer")
STATUSES = ("proposed", "active", "suspended", "closed")


@dataclass(frozen=True)
class Project:
    id: str
    title: str
    purpose: str
    mission: int
    legal_gateway: str
    lead: str
    status: str
    start: dt.date
    end: dt.date
    intended_outputs: list[str] = field(default_factory=list)
    intended_datasets: list[str] = field(default_factory=list)
    members: dict[str, str] = field(default_factory=dict)

    def _repr_html_(self) -> str:
        from html import escape

        members = ", ".join(f"{escape(u)} ({escape(r)})" for u, r in sorted(self.members.items()))
        return (f"<div><h3>{escape(self.title)} <small>{escape(self.id)}</small></h3>"
                f"<p>{escape(self.purpose)}</p><ul><li>Mission {self.mission}; status {escape(self.status)}; "
                f"{self.start} to {self.end}</li><li>Legal gateway: {escape(self.legal_gateway)}</li>"
                f"<li>Members: {members}</li></ul></div>")


def _date(value: Any, name: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(f"{name}: {value!r} is not a date (YYYY-MM-DD).", field=name) from None


class Projects:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def create(self, id: str, title: str, purpose: str, *, mission: int, legal_gateway: str, lead: str,
               start: Any, end: Any, members: dict[str, str] | None = None, status: str = "proposed",
               intended_outputs: list[str] | None = None,
               intended_datasets: list[str] | None = None) -> Project:
        """Create a project; every field is checked before anything is written."""
        from sqlalchemy import insert, select

        from workbench.db.schema import datasets, legal_gateways, people, project_members, projects

        check_project_id(id)
        for name, value in (("title", title), ("purpose", purpose)):
            if not isinstance(value, str) or not value.strip():
                raise InvalidInput(f"{name}: give the project's {name}.", field=name)
        if isinstance(mission, bool) or mission not in (1, 2, 3, 4, 5):
            raise InvalidInput(f"mission: {mission!r} is not a mission number 1–5.", field="mission")
        if status not in STATUSES:
            raise InvalidInput(f"status: {status!r} is not one of {', '.join(STATUSES)}.", field="status")
        start_date, end_date = _date(start, "start"), _date(end, "end")
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

    def get(self, id: str) -> Project:
        self._ctx.require("projects.read", f"project {id}")
        with self._ctx.db.read() as conn:
            return self._load(conn, id)

    def list(self) -> pd.DataFrame:
        """All projects, id first."""
        import pandas as pd
        from sqlalchemy import select

        from workbench.db.schema import projects

        self._ctx.require("projects.read", "projects")
        with self._ctx.db.read() as conn:
            rows = conn.execute(select(projects).order_by(projects.c.id)).mappings().all()
        columns = ["id", "title", "mission", "status", "lead", "legal_gateway", "start_date", "end_date"]
        return pd.DataFrame([{c: r[c] for c in columns} for r in rows], columns=columns)

    @staticmethod
    def _load(conn: Connection, id: str) -> Project:
        from sqlalchemy import select

        from workbench.db.schema import project_members, projects

        row = conn.execute(select(projects).where(projects.c.id == id)).mappings().first()
        if row is None:
            raise NotFound(f"No project {id!r}; ws.projects() lists them.")
        members = {r.username: r.role for r in conn.execute(
            select(project_members).where(project_members.c.project_id == id))}
        return Project(id=row["id"], title=row["title"], purpose=row["purpose"], mission=row["mission"],
                       legal_gateway=row["legal_gateway"], lead=row["lead"], status=row["status"],
                       start=row["start_date"], end=row["end_date"],
                       intended_outputs=list(row["intended_outputs"]),
                       intended_datasets=list(row["intended_datasets"]), members=members)
